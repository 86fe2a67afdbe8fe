package mcp

import (
	"context"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/klaxonhq/klaxon/metric"
)

// Benchmarks of the recording hot path. Run with -cpu 1,2: the Parallel
// variants call one tool from every P, where lock contention would show.
// "Baseline" is the bare handler chain, so the middleware's cost is the
// difference.

func benchHandler() (sdk.MethodHandler, sdk.Request) {
	res := &sdk.CallToolResult{Content: []sdk.Content{}}
	next := func(context.Context, string, sdk.Request) (sdk.Result, error) { return res, nil }
	return next, &sdk.CallToolRequest{Params: &sdk.CallToolParamsRaw{Name: "search"}}
}

func BenchmarkBaseline(b *testing.B) {
	next, req := benchHandler()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = next(ctx, MethodCallTool, req)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	next, req := benchHandler()
	h := NewRecorder(metric.NewRegistry(&metric.Options{NoRuntime: true}), nil).Middleware()(next)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h(ctx, MethodCallTool, req)
	}
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	next, req := benchHandler()
	h := NewRecorder(metric.NewRegistry(&metric.Options{NoRuntime: true}), nil).Middleware()(next)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = h(ctx, MethodCallTool, req)
		}
	})
}

func BenchmarkRecorderBeginEnd(b *testing.B) {
	r := NewRecorder(metric.NewRegistry(&metric.Options{NoRuntime: true}), nil)
	b.ReportAllocs()
	for b.Loop() {
		r.Begin(MethodCallTool, "search").End(false)
	}
}

// BenchmarkClock is the two clock reads any latency measurement needs
// (time.Now at the start, time.Since at the end), for reference: on a VM
// whose clock source is slow they dominate the middleware's cost.
func BenchmarkClock(b *testing.B) {
	var d time.Duration
	for b.Loop() {
		d += time.Since(time.Now())
	}
	_ = d
}
