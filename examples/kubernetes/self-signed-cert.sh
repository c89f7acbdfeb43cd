#!/bin/sh
# TLS for the webhook without cert-manager: a self-signed CA, a serving certificate for the
# costguard Service, the costguard-tls secret, and the CA bundle patched into the webhook.
# Run after `kubectl apply -f costguard-webhook.yaml` with its Issuer and Certificate removed.
# Re-run before the certificate expires (365 days); costguard picks up the new files by itself.
set -eu
NS=costguard
SVC=costguard
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -keyout "$DIR/ca.key" -out "$DIR/ca.crt" -subj "/CN=costguard-webhook-ca"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$DIR/tls.key" -out "$DIR/tls.csr" -subj "/CN=$SVC.$NS.svc"
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\n' "$SVC" "$NS" "$SVC" "$NS" > "$DIR/ext.cnf"
openssl x509 -req -in "$DIR/tls.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
  -days 365 -extfile "$DIR/ext.cnf" -out "$DIR/tls.crt"

kubectl -n "$NS" create secret tls costguard-tls --cert="$DIR/tls.crt" --key="$DIR/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f -
CA_BUNDLE=$(base64 < "$DIR/ca.crt" | tr -d '\n')
kubectl patch validatingwebhookconfiguration costguard --type=json \
  -p "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"$CA_BUNDLE\"}]"
