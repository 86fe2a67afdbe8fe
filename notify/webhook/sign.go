package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names (the spec writes them in lower case; HTTP
// header names are case-insensitive).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// The same names in Go's canonical form, the map keys of an http.Header.
const (
	canonicalID        = "Webhook-Id"
	canonicalTimestamp = "Webhook-Timestamp"
	canonicalSignature = "Webhook-Signature"
)

// sign returns the webhook-signature value for one attempt: "v1,<base64
// HMAC-SHA256>" per key over "id.timestamp.body", space-separated.
func sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	var b strings.Builder
	prefix := make([]byte, 0, len(id)+24)
	prefix = append(prefix, id...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts.Unix(), 10)
	prefix = append(prefix, '.')
	var sum [sha256.Size]byte
	var enc [44]byte // base64 of 32 bytes
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write(prefix)
		mac.Write(body)
		base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.Write(enc[:])
	}
	return b.String()
}

// messageID makes a notification's key a valid Standard Webhooks id: it must
// never contain '.', the field separator of the signed content.
func messageID(key string) string {
	return strings.ReplaceAll(key, ".", "_")
}
