;; The structural pass of the CSV scanner (src/budget/csv-scanner.ts), 64 bytes at a time with
;; WebAssembly SIMD: which bytes are quotes, commas, line feeds and carriage returns; which of them are
;; inside quotes (a running XOR of the quote bits); and so where every field and record ends. Records
;; that are not plain RFC 4180 stop the pass, and the JavaScript scanner reads them instead, so the two
;; agree on every input. Assembled by `npm run wasm:build` into csv-structure-wasm.ts.
(module
  ;; The caller lays out the memory: input bytes from offset 0 (with 64 bytes of memory after the input's
  ;; end, which are read but ignored), then the four tables whose offsets and capacity it sets with
  ;; `layout`: starts, ends (i32), flags (u8) per field, and per record the index after its last field.
  (memory (export "memory") 1)
  (global $starts (mut i32) (i32.const 0))
  (global $ends (mut i32) (i32.const 0))
  (global $flags (mut i32) (i32.const 0))
  (global $records (mut i32) (i32.const 0))
  (global $capacity (mut i32) (i32.const 0))
  ;; Why the last scan stopped: 0 at the end of the input, 1 at an irregular byte, 2 with the tables full.
  (global $stop (export "stop") (mut i32) (i32.const 0))
  ;; Offset after the last whole record scanned.
  (global $resume (export "resume") (mut i32) (i32.const 0))

  (func (export "layout") (param $starts i32) (param $ends i32) (param $flags i32) (param $records i32)
        (param $capacity i32)
    (global.set $starts (local.get $starts))
    (global.set $ends (local.get $ends))
    (global.set $flags (local.get $flags))
    (global.set $records (local.get $records))
    (global.set $capacity (local.get $capacity)))

  ;; Scans whole records from `pos` (a record start) to `end`; returns how many. Record k's fields are
  ;; entries [records[k-1], records[k]) (from 0 for k = 0) of the starts/ends/flags tables: quotes and a
  ;; CR before the LF already stripped, flags 3 for a quoted field. Stops early (stop = 1) at the first
  ;; byte a plain record cannot hold: a quote inside an unquoted field, text after a closing quote, a line
  ;; feed inside quotes, a carriage return not followed by a line feed. The caller reads that record
  ;; another way and calls again after it.
  (func (export "scan") (param $pos i32) (param $end i32) (result i32)
    (local $fields i32) (local $rows i32) (local $fieldStart i32)
    (local $inside i64) (local $prevSep i64) (local $prevClose i64)
    (local $q i64) (local $c i64) (local $l i64) (local $r i64) (local $x i64) (local $sep i64)
    (local $close i64) (local $after i64) (local $bad i64) (local $valid i64) (local $nextLF i64)
    (local $bit i32) (local $at i32) (local $s i32) (local $e i32) (local $flag i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $kq v128) (local $kc v128) (local $kl v128) (local $kr v128)
    (local.set $kq (i8x16.splat (i32.const 34)))
    (local.set $kc (i8x16.splat (i32.const 44)))
    (local.set $kl (i8x16.splat (i32.const 10)))
    (local.set $kr (i8x16.splat (i32.const 13)))
    (local.set $prevSep (i64.const 1))
    (local.set $fieldStart (local.get $pos))
    (global.set $resume (local.get $pos))
    (block $done
      (loop $blocks
        (if (i32.ge_u (local.get $pos) (local.get $end))
          (then (global.set $stop (i32.const 0)) (br $done)))
        (if (i32.gt_u (i32.add (local.get $fields) (i32.const 64)) (global.get $capacity))
          (then (global.set $stop (i32.const 2)) (br $done)))
        (local.set $valid
          (if (result i64) (i32.ge_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 64))
            (then (i64.const -1))
            (else (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $pos))))
              (i64.const 1)))))
        (local.set $v0 (v128.load offset=0 (local.get $pos)))
        (local.set $v1 (v128.load offset=16 (local.get $pos)))
        (local.set $v2 (v128.load offset=32 (local.get $pos)))
        (local.set $v3 (v128.load offset=48 (local.get $pos)))
        (local.set $q (i64.and (local.get $valid) (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $kq))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $kq)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $kq)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $kq)))) (i64.const 48))))))
        (local.set $c (i64.and (local.get $valid) (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $kc))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $kc)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $kc)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $kc)))) (i64.const 48))))))
        (local.set $l (i64.and (local.get $valid) (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $kl))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $kl)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $kl)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $kl)))) (i64.const 48))))))
        (local.set $r (i64.and (local.get $valid) (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $kr))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $kr)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $kr)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $kr)))) (i64.const 48))))))
        ;; x: bit i set when byte i is inside quotes (an opening quote is inside, a closing one is not)
        (local.set $x (local.get $q))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $x (i64.xor (local.get $x) (local.get $inside)))
        (local.set $inside (i64.shr_s (local.get $x) (i64.const 63)))
        (local.set $sep (i64.and (i64.or (local.get $c) (local.get $l)) (i64.xor (local.get $x) (i64.const -1))))
        (local.set $close (i64.and (local.get $q) (i64.xor (local.get $x) (i64.const -1))))
        (local.set $after (i64.or (i64.shl (local.get $close) (i64.const 1)) (local.get $prevClose)))
        ;; an opening quote that neither starts a field nor follows a closing quote (a doubled quote)
        (local.set $bad
          (i64.and (i64.and (local.get $q) (local.get $x))
            (i64.xor
              (i64.or (i64.or (i64.shl (local.get $sep) (i64.const 1)) (local.get $prevSep)) (local.get $after))
              (i64.const -1))))
        ;; a closing quote followed by anything but a quote, a comma or a line end
        (local.set $bad (i64.or (local.get $bad)
          (i64.and (i64.and (local.get $after) (local.get $valid))
            (i64.xor (i64.or (i64.or (local.get $q) (local.get $c)) (i64.or (local.get $l) (local.get $r)))
              (i64.const -1)))))
        ;; a line feed inside quotes; a carriage return outside quotes not followed by a line feed
        (local.set $nextLF (i64.const 0))
        (if (i32.lt_u (i32.add (local.get $pos) (i32.const 64)) (local.get $end))
          (then (if (i32.eq (i32.load8_u offset=64 (local.get $pos)) (i32.const 10))
            (then (local.set $nextLF (i64.const 0x8000000000000000))))))
        (local.set $bad (i64.or (local.get $bad)
          (i64.or (i64.and (local.get $l) (local.get $x))
            (i64.and (i64.and (local.get $r) (i64.xor (local.get $x) (i64.const -1)))
              (i64.xor (i64.or (i64.shr_u (local.get $l) (i64.const 1)) (local.get $nextLF)) (i64.const -1))))))
        (local.set $prevSep (i64.shr_u (local.get $sep) (i64.const 63)))
        (local.set $prevClose (i64.shr_u (local.get $close) (i64.const 63)))
        ;; only the separators before the first irregular byte count
        (if (i64.ne (local.get $bad) (i64.const 0))
          (then (local.set $sep (i64.and (local.get $sep)
            (i64.sub (i64.and (local.get $bad) (i64.sub (i64.const 0) (local.get $bad))) (i64.const 1))))))
        (block $fieldsDone
          (loop $field
            (br_if $fieldsDone (i64.eqz (local.get $sep)))
            (local.set $bit (i32.wrap_i64 (i64.ctz (local.get $sep))))
            (local.set $sep (i64.and (local.get $sep) (i64.sub (local.get $sep) (i64.const 1))))
            (local.set $at (i32.add (local.get $pos) (local.get $bit)))
            (local.set $s (local.get $fieldStart))
            (local.set $e (local.get $at))
            (local.set $flag (i32.const 0))
            ;; CR LF: the CR is no part of the field
            (if (i32.and (i32.eq (i32.load8_u (local.get $at)) (i32.const 10)) (i32.gt_u (local.get $e) (local.get $s)))
              (then (if (i32.eq (i32.load8_u offset=0 (i32.sub (local.get $e) (i32.const 1))) (i32.const 13))
                (then (local.set $e (i32.sub (local.get $e) (i32.const 1)))))))
            (if (i32.and (i32.gt_u (local.get $e) (local.get $s)) (i32.eq (i32.load8_u (local.get $s)) (i32.const 34)))
              (then
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (local.set $e (i32.sub (local.get $e) (i32.const 1)))
                ;; quoted, and may hold doubled quotes (1 | 2: see CsvRecord)
                (local.set $flag (i32.const 3))))
            (i32.store (i32.add (global.get $starts) (i32.shl (local.get $fields) (i32.const 2))) (local.get $s))
            (i32.store (i32.add (global.get $ends) (i32.shl (local.get $fields) (i32.const 2))) (local.get $e))
            (i32.store8 (i32.add (global.get $flags) (local.get $fields)) (local.get $flag))
            (local.set $fields (i32.add (local.get $fields) (i32.const 1)))
            (local.set $fieldStart (i32.add (local.get $at) (i32.const 1)))
            (if (i32.eq (i32.load8_u (local.get $at)) (i32.const 10))
              (then
                (i32.store (i32.add (global.get $records) (i32.shl (local.get $rows) (i32.const 2))) (local.get $fields))
                (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
                (global.set $resume (local.get $fieldStart))))
            (br $field)))
        (if (i64.ne (local.get $bad) (i64.const 0))
          (then (global.set $stop (i32.const 1)) (br $done)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
        (br $blocks)))
    (local.get $rows))
)
