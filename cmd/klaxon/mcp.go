package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	kmcp "github.com/klaxonhq/klaxon/mcp"
	"github.com/klaxonhq/klaxon/secret"
)

// newMCPCmd is `klaxon mcp`: klaxon's alerts as MCP tools, over stdio
// (default) or streamable HTTP (--http).
func newMCPCmd(getenv func(string) string) *cobra.Command {
	var url, httpAddr, file, dataDir string
	var embedded bool
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve klaxon's alerts as MCP tools (stdio, or streamable HTTP with --http)",
		Long: `Serve klaxon as an MCP server with the tools list_alerts, get_alert,
acknowledge_alert, resolve_alert, silence_alerts, list_channels, test_channel
and fire_alert.

By default the tools act on a running klaxon through its HTTP API (--url,
token from KLAXON_API_TOKEN). With --embedded they act on an engine running
in this process (--config, --data-dir, MCP_ALERT_* channels).

When a token is configured, write tools require it from the MCP client: as
the "token" argument, or as "Authorization: Bearer TOKEN" over --http.

Transport: stdio (for MCP clients that launch klaxon), or streamable HTTP on
--http ADDR at path /mcp.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// stdout belongs to the stdio transport: logs go to stderr.
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			token := secret.New(getenv("KLAXON_API_TOKEN"))

			var backend kmcp.Backend
			var engDone chan struct{}
			if embedded {
				opts := []klaxon.Option{klaxon.WithLogger(log), klaxon.FromEnv(), klaxon.WithGetenv(getenv)}
				if file != "" {
					cfg, err := klaxon.LoadConfig(file, getenv)
					if err != nil {
						return err
					}
					opts = append(opts, klaxon.WithConfig(cfg))
					if token.IsZero() {
						token = cfg.Server.APIToken
					}
				}
				if dataDir != "" {
					opts = append(opts, klaxon.WithDataDir(dataDir))
				}
				if !token.IsZero() {
					opts = append(opts, klaxon.WithAPIToken(token.Reveal()))
				}
				eng, err := klaxon.New(opts...)
				if err != nil {
					return err
				}
				engDone = make(chan struct{})
				go func() {
					defer close(engDone)
					if err := eng.Run(ctx); err != nil {
						log.Error("engine stopped", "err", err)
					}
				}()
				backend = kmcp.EngineBackend{E: eng}
			} else {
				if url == "" {
					url = "http://127.0.0.1:9095"
				}
				backend = &kmcp.HTTPBackend{URL: url, Token: token}
			}
			server := kmcp.NewServer(backend, &kmcp.ServerOptions{Token: token, Logger: log})

			var err error
			if httpAddr == "" {
				err = server.Run(ctx, &sdk.StdioTransport{})
			} else {
				err = serveMCPHTTP(ctx, server, httpAddr, !token.IsZero(), log)
			}
			stop()
			if engDone != nil {
				<-engDone
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	// --url shadows the root's persistent flag of the same name and
	// meaning, so the command also works on its own.
	f.StringVar(&url, "url", "http://127.0.0.1:9095", "klaxon API base URL (ignored with --embedded)")
	f.StringVar(&httpAddr, "http", "", "serve streamable HTTP on ADDR (path /mcp) instead of stdio")
	f.BoolVar(&embedded, "embedded", false, "run an engine in this process instead of using a running klaxon")
	f.StringVar(&file, "config", "", "configuration file (with --embedded)")
	f.StringVar(&dataDir, "data-dir", "", "data directory (with --embedded; default ./klaxon-data)")
	return cmd
}

// serveMCPHTTP serves server over streamable HTTP at ADDR/mcp until ctx
// ends. A non-loopback address requires a token.
func serveMCPHTTP(ctx context.Context, server *sdk.Server, addr string, hasToken bool, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() && !hasToken {
		_ = ln.Close()
		return fmt.Errorf("--http %s listens beyond loopback: set KLAXON_API_TOKEN", addr)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server }, nil))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("klaxon MCP server listening", "url", "http://"+ln.Addr().String()+"/mcp")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
