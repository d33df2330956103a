// Package memstorage is a storage extension that keeps its data in memory,
// for tests: every client it hands out shares one map, the way file_storage
// shares its directory across a restart.
package memstorage

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Extension implements storage.Extension.
type Extension struct {
	component.StartFunc
	component.ShutdownFunc
	client *Client
}

// New returns an empty extension.
func New() *Extension {
	return &Extension{client: &Client{data: map[string][]byte{}}}
}

// GetClient returns the extension's one client.
func (e *Extension) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return e.client, nil
}

// Client implements storage.Client over a map.
type Client struct {
	mu   sync.Mutex
	data map[string][]byte
}

// NewClient returns an empty client.
func NewClient() *Client {
	return &Client{data: map[string][]byte{}}
}

func (c *Client) Get(ctx context.Context, k string) ([]byte, error) {
	op := storage.GetOperation(k)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *Client) Set(ctx context.Context, k string, v []byte) error {
	return c.Batch(ctx, storage.SetOperation(k, v))
}

func (c *Client) Delete(ctx context.Context, k string) error {
	return c.Batch(ctx, storage.DeleteOperation(k))
}

func (c *Client) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range ops {
		switch op.Type {
		case storage.Set:
			c.data[op.Key] = op.Value
		case storage.Delete:
			delete(c.data, op.Key)
		case storage.Get:
			op.Value = c.data[op.Key]
		}
	}
	return nil
}

func (c *Client) Close(context.Context) error { return nil }
