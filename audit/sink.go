package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Sink receives export lines. A batch is written whole or the call fails;
// a failed batch is sent again, so a sink may see a line twice and should
// drop repeats by event id.
type Sink interface {
	Write(ctx context.Context, jsonl []byte) error
}

// OpenSink is a file sink for a path and an HTTP sink for an http(s) URL.
// token, when set, is sent to an HTTP sink as a bearer token.
func OpenSink(target, token string) (Sink, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("audit sink %q: not a valid URL", target)
		}
		return &HTTPSink{URL: target, Token: token, Client: &http.Client{Timeout: time.Minute}}, nil
	}
	if target == "" {
		return nil, fmt.Errorf("audit sink: give a file path or an http(s) URL")
	}
	return FileSink(target), nil
}

// FileSink appends lines to a file, creating it (mode 0600) when missing.
type FileSink string

// Write appends the batch and syncs it to disk before returning.
func (f FileSink) Write(_ context.Context, jsonl []byte) error {
	if len(jsonl) == 0 {
		return nil
	}
	file, err := os.OpenFile(string(f), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit sink: %w", err)
	}
	if _, err := file.Write(jsonl); err != nil {
		file.Close()
		return fmt.Errorf("audit sink %s: %w", f, err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return fmt.Errorf("audit sink %s: %w", f, err)
	}
	return file.Close()
}

// HTTPSink POSTs each batch as application/x-ndjson; any 2xx answer
// accepts it.
type HTTPSink struct {
	URL    string
	Token  string
	Client *http.Client
}

// Write sends the batch.
func (h *HTTPSink) Write(ctx context.Context, jsonl []byte) error {
	if len(jsonl) == 0 {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(jsonl))
	if err != nil {
		return fmt.Errorf("audit sink %s: %w", h.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		return fmt.Errorf("audit sink %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("audit sink %s: %s: %s", h.URL, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}
