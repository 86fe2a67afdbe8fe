// Package mcpgo instruments MCP servers built on github.com/mark3labs/mcp-go
// with klaxon: it feeds the same mcp.Recorder as the go-sdk middleware, so
// the built-in metrics and mcp.DefaultRules work unchanged. It is a
// sub-package so that mcp-go stays out of the dependencies of programs that
// use the official SDK.
//
//	rec := kmcp.NewRecorder(engine.Metrics(), nil)
//	s := server.NewMCPServer("srv", "v1", mcpgo.Options(rec)...)
//
// What is recorded, through mcp-go's tool handler middleware and its hooks:
//
//   - tools/call: requests, errors (a handler error, or a result with
//     isError), latency, requests in flight, consecutive failures, and
//     panics, which are recovered and answered as a tool result with
//     isError and mcp.PanicMessage (as the go-sdk middleware does);
//   - sessions (OnRegisterSession / OnUnregisterSession) into
//     active_connections;
//   - tools/list answers (OnAfterListTools) into tool_listed.
//
// # Limitation
//
// Methods other than tools/call are not recorded: mcp-go's hooks
// (OnBeforeAny, OnSuccess, OnError) tell start and end apart only by
// request id, so timing them would need a shared map keyed by session and
// id on every request, with a lock or allocation each time. Tool calls,
// which carry nearly all of an MCP server's work and failures, go through
// the middleware, which times them with nothing shared.
package mcpgo

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	kmcp "github.com/klaxonhq/klaxon/mcp"
)

// Options returns the server options that instrument an mcp-go server:
// its hooks (AddHooks) and its tool middleware (Middleware). Servers that
// already pass server.WithHooks should call AddHooks on their Hooks and
// add Middleware instead, as mcp-go keeps only one Hooks value.
func Options(rec *kmcp.Recorder) []server.ServerOption {
	h := &server.Hooks{}
	AddHooks(h, rec)
	return []server.ServerOption{server.WithHooks(h), server.WithToolHandlerMiddleware(Middleware(rec))}
}

// AddHooks adds the session and tools/list hooks to h.
func AddHooks(h *server.Hooks, rec *kmcp.Recorder) {
	h.AddOnRegisterSession(func(context.Context, server.ClientSession) { rec.SessionOpened() })
	h.AddOnUnregisterSession(func(context.Context, server.ClientSession) { rec.SessionClosed() })
	h.AddAfterListTools(func(_ context.Context, _ any, req *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		if res == nil {
			return
		}
		names := make([]string, 0, len(res.Tools))
		for _, t := range res.Tools {
			names = append(names, t.Name)
		}
		complete := res.NextCursor == "" && (req == nil || req.Params.Cursor == "")
		rec.ToolsListed(names, complete)
	})
}

// Middleware returns tool handler middleware that records every tool call
// and recovers panics. Add it outermost so it also sees errors of other
// middleware.
func Middleware(rec *kmcp.Recorder) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			tool := req.Params.Name
			if tool == "" {
				tool = kmcp.OtherTool
			}
			call := rec.Begin(kmcp.MethodCallTool, tool)
			defer func() {
				if p := recover(); p != nil {
					call.Panicked()
					rec.Logger().ErrorContext(ctx, "mcp tool panicked", "tool", tool,
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					res, err = mcp.NewToolResultError(kmcp.PanicMessage), nil
					call.End(true)
				}
			}()
			res, err = next(ctx, req)
			call.End(err != nil || (res != nil && res.IsError))
			return res, err
		}
	}
}
