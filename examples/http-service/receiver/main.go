// Command receiver is the smallest webhook receiver for trying klaxon: it
// listens on 127.0.0.1:9099, prints one line per notification posted to
// /hook, and answers 204. It does not verify signatures; see
// examples/webhook for a receiver that does.
//
//	go run ./examples/http-service/receiver
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9099", "address to listen on")
	flag.Parse()
	http.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var body struct {
			Type   string `json:"type"`
			Alerts []struct {
				State    string `json:"state"`
				Severity string `json:"severity"`
				Summary  string `json:"summary"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "not JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		for _, a := range body.Alerts {
			fmt.Printf("receiver: %s webhook-id=%s severity=%s summary=%q\n", body.Type, r.Header.Get("webhook-id"), a.Severity, a.Summary)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	fmt.Printf("receiver: listening on http://%s/hook\n", *addr)
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
