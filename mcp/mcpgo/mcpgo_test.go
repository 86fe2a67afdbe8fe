package mcpgo_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	kmcp "github.com/klaxonhq/klaxon/mcp"
	"github.com/klaxonhq/klaxon/mcp/mcpgo"
	"github.com/klaxonhq/klaxon/metric"
)

func last(t *testing.T, reg *metric.Registry, name string, labels alert.Labels) float64 {
	t.Helper()
	var sel alert.Matchers
	for k, v := range labels {
		m, err := alert.NewMatcher(k, alert.MatchEqual, v)
		require.NoError(t, err)
		sel = append(sel, m)
	}
	res := reg.Query(name, sel, metric.Last, 0, time.Now())
	require.Len(t, res, 1, "series %s%v", name, labels)
	return res[0].Value
}

func setup(t *testing.T, reg *metric.Registry, fail *atomic.Bool) (*server.MCPServer, *client.Client) {
	t.Helper()
	rec := kmcp.NewRecorder(reg, nil)
	s := server.NewMCPServer("test", "v1", mcpgo.Options(rec)...)
	s.AddTool(mcp.NewTool("echo"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if fail.Load() {
			return mcp.NewToolResultError("backend unavailable"), nil
		}
		return mcp.NewToolResultText("ok"), nil
	})
	s.AddTool(mcp.NewTool("broken"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("broken")
	})
	s.AddTool(mcp.NewTool("boom"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		panic("kaboom")
	})
	c, err := client.NewInProcessClient(s)
	require.NoError(t, err)
	require.NoError(t, c.Start(t.Context()))
	t.Cleanup(func() { _ = c.Close() })
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "c", Version: "v1"}
	_, err = c.Initialize(t.Context(), init)
	require.NoError(t, err)
	return s, c
}

func callTool(t *testing.T, c *client.Client, name string) (*mcp.CallToolResult, error) {
	t.Helper()
	var req mcp.CallToolRequest
	req.Params.Name = name
	return c.CallTool(t.Context(), req)
}

func TestMiddleware_Records(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(&metric.Options{NoRuntime: true})
	var fail atomic.Bool
	s, c := setup(t, reg, &fail)
	echo := alert.Labels{"method": "tools/call", "tool": "echo"}

	_, err := callTool(t, c, "echo")
	require.NoError(t, err)
	fail.Store(true)
	res, err := callTool(t, c, "echo")
	require.NoError(t, err)
	require.True(t, res.IsError)
	require.Equal(t, 2.0, last(t, reg, "request_count", echo))
	require.Equal(t, 1.0, last(t, reg, "errors", echo))
	require.Equal(t, 1.0, last(t, reg, kmcp.NameConsecutiveFailures, alert.Labels{"tool": "echo"}))

	// A handler error counts as failed.
	_, _ = callTool(t, c, "broken")
	require.Equal(t, 1.0, last(t, reg, "errors", alert.Labels{"method": "tools/call", "tool": "broken"}))

	// A panic is recovered, answered with isError and counted.
	res, err = callTool(t, c, "boom")
	require.NoError(t, err)
	require.True(t, res.IsError)
	require.Equal(t, kmcp.PanicMessage, res.Content[0].(mcp.TextContent).Text)
	require.Equal(t, 1.0, last(t, reg, kmcp.NamePanics, alert.Labels{"method": "tools/call", "tool": "boom"}))

	// tools/list feeds tool_listed; a tool deleted from the server goes to 0.
	_, err = c.ListTools(t.Context(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	require.Equal(t, 1.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "boom"}))
	s.DeleteTools("boom")
	_, err = c.ListTools(t.Context(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	require.Equal(t, 0.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "boom"}))
	require.Equal(t, 1.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "echo"}))
}

func TestMiddleware_ErrorRateAlert(t *testing.T) {
	t.Parallel()
	eng, err := klaxon.New(klaxon.WithDataDir(t.TempDir()), kmcp.WithRules(&kmcp.RulesOptions{ErrorRateFor: -1}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	var fail atomic.Bool
	fail.Store(true)
	_, c := setup(t, eng.Metrics(), &fail)
	for range 20 {
		_, err := callTool(t, c, "echo")
		require.NoError(t, err)
	}
	require.NoError(t, eng.Evaluate(t.Context()))
	var found *alert.Alert
	for _, a := range eng.Alerts() {
		if a.RuleID == kmcp.RuleHighErrorRate {
			found = a
		}
	}
	require.NotNil(t, found)
	require.Equal(t, alert.StateActive, found.State)
	require.Equal(t, "echo", found.Labels["tool"])
}
