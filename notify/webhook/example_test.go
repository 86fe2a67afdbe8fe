package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/webhook"
	"github.com/klaxonhq/klaxon/secret"
)

// A receiver verifies klaxon's Standard Webhooks signature with the official
// library before trusting the body.
func ExampleNew() {
	const key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	verifier, _ := standardwebhooks.NewWebhook(key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("receiver: verified a signed notification")
	}))
	defer srv.Close()

	ch, err := webhook.New("ops", webhook.Config{URL: secret.New(srv.URL + "/hook"), Secret: secret.New(key)})
	if err != nil {
		fmt.Println(err)
		return
	}
	receipt, err := ch.Send(context.Background(), notify.SampleNotification("ops", time.Now()))
	fmt.Println(receipt.Detail, err)
	// Output:
	// receiver: verified a signed notification
	// 200 OK <nil>
}
