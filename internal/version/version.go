// Package version holds klaxon's version string, shared by the CLI, the API
// and every channel's User-Agent.
package version

// Version is klaxon's version. Release builds set it with
// -ldflags "-X github.com/klaxonhq/klaxon/internal/version.Version=v1.2.3";
// development builds report "dev".
var Version = "dev"
