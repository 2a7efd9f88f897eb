// Package agentext holds PizzaPi's agent tools for the pi coding agent: a pi extension (TypeScript,
// loaded by pi itself) that `pizzapi share` writes to a private directory and passes to pi with
// `-e`. Its tools reach share over the channel schema/piext.json describes.
package agentext

import "embed"

// Files are the extension's TypeScript sources: write them all to one directory and pass pi the
// main one, FileName.
//
//go:embed pizzapi.ts mcp.ts
var Files embed.FS

// FileName is the extension's main file (pi picks the loader by its extension).
const FileName = "pizzapi.ts"

// SocketEnv is the environment variable that gives the extension the path of share's socket.
const SocketEnv = "PIZZAPI_SHARE_SOCKET"
