package mcp

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/klaxonhq/klaxon/metric"
)

// MCP method names the middleware treats specially.
const (
	MethodCallTool  = "tools/call"
	MethodListTools = "tools/list"
)

// PanicMessage is the text of the tool result (isError) that answers a
// tools/call whose handler panicked. The panic value is not sent to the
// client, which may be a model; it goes to Options.Logger with the stack.
const PanicMessage = "internal error: the tool failed unexpectedly"

// Instrument adds the recording middleware to server and returns its
// recorder, which also counts the server's sessions (WatchServer). Call
// it before the server accepts sessions. opts may be nil.
//
//	rec := mcp.Instrument(server, engine.Metrics(), nil)
func Instrument(server *sdk.Server, reg *metric.Registry, opts *Options) *Recorder {
	r := NewRecorder(reg, opts)
	r.WatchServer(server)
	server.AddReceivingMiddleware(r.Middleware())
	return r
}

// Middleware returns go-sdk receiving middleware that records every request
// the server handles (see Recorder), recovers panics of handlers, and
// watches tools/list answers. Sessions are counted by WatchServer, which
// Instrument calls. Install it outermost (first in
// AddReceivingMiddleware) so it also sees errors of inner middleware.
//
// What counts as failed: a JSON-RPC error, and a tools/call result with
// isError. A panic is recovered and answered as a tool result with isError
// and PanicMessage for tools/call (so the model sees the failure and the
// session goes on, as the SDK does for tool handler errors), and as a
// JSON-RPC internal error (-32603) for other methods; both are counted as
// failed and in handler_panics. Notifications are not recorded.
func (r *Recorder) Middleware() sdk.Middleware {
	return func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (res sdk.Result, err error) {
			var tool string
			switch method {
			case MethodCallTool:
				if ct, ok := req.(*sdk.CallToolRequest); ok && ct.Params != nil {
					tool = ct.Params.Name
				}
				if tool == "" {
					tool = OtherTool
				}
			default:
				if isNotification(method) {
					return next(ctx, method, req)
				}
			}
			call := r.Begin(method, tool)
			defer func() {
				if p := recover(); p != nil {
					call.Panicked()
					r.log.ErrorContext(ctx, "mcp handler panicked", "method", method, "tool", tool,
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					if method == MethodCallTool {
						res, err = &sdk.CallToolResult{
							Content: []sdk.Content{&sdk.TextContent{Text: PanicMessage}},
							IsError: true,
						}, nil
					} else {
						res, err = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
					}
					call.End(true)
				}
			}()
			res, err = next(ctx, method, req)
			failed := err != nil
			switch method {
			case MethodCallTool:
				if ctr, ok := res.(*sdk.CallToolResult); ok && ctr != nil && ctr.IsError {
					failed = true
				}
			case MethodListTools:
				if err == nil {
					r.observeList(req, res)
				}
			}
			call.End(failed)
			return res, err
		}
	}
}

func isNotification(method string) bool {
	return len(method) > 14 && method[:14] == "notifications/"
}

func (r *Recorder) observeList(req sdk.Request, res sdk.Result) {
	lr, ok := res.(*sdk.ListToolsResult)
	if !ok || lr == nil {
		return
	}
	complete := lr.NextCursor == ""
	if p, ok := req.GetParams().(*sdk.ListToolsParams); ok && p != nil && p.Cursor != "" {
		complete = false
	}
	names := make([]string, 0, len(lr.Tools))
	for _, t := range lr.Tools {
		if t != nil {
			names = append(names, t.Name)
		}
	}
	r.ToolsListed(names, complete)
}
