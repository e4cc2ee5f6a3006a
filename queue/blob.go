package queue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// Blobs are data that many jobs share, such as the prepared rows of a
// training run that every fold job reads: stored once in the object store
// TELL_BLOBS under the hex SHA-256 of their bytes, not once per job. Sweep
// leaves them alone; whoever stores a blob removes it when its jobs are over
// (DeleteBlob). Keys are content hashes, so storing the same bytes twice
// stores them once, and a reader checks that what it got hashes to its key.

// Errors of Blob.
var (
	ErrBlobTooLarge = errors.New("blob over the size limit")
	ErrNoBlob       = errors.New("no such blob")
)

// BlobKey returns the key PutBlob stores data under.
func BlobKey(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// PutBlob stores data under BlobKey(data), unless a blob of that key and
// size is already stored, and returns the key.
func (q *Queue) PutBlob(ctx context.Context, data []byte) (string, error) {
	key := BlobKey(data)
	if info, err := q.blobs.GetInfo(ctx, key); err == nil && !info.Deleted && info.Size == uint64(len(data)) {
		return key, nil
	}
	if _, err := q.blobs.Put(ctx, jetstream.ObjectMeta{Name: key}, bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("queue: store blob %.12s: %w", key, err)
	}
	return key, nil
}

// Blob reads the blob stored under key, refusing one larger than max bytes
// before reading it (max ≤ 0: no limit), and checks its hash.
func (q *Queue) Blob(ctx context.Context, key string, max int64) ([]byte, error) {
	if len(key) != 64 {
		return nil, fmt.Errorf("queue: bad blob key %q", key)
	}
	info, err := q.blobs.GetInfo(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("queue: blob %.12s: %w", key, ErrNoBlob)
		}
		return nil, fmt.Errorf("queue: blob %.12s: %w", key, err)
	}
	if max > 0 && info.Size > uint64(max) {
		return nil, fmt.Errorf("queue: blob %.12s has %d bytes, over %d: %w", key, info.Size, max, ErrBlobTooLarge)
	}
	r, err := q.blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("queue: blob %.12s: %w", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, int64(info.Size)+1))
	if err != nil {
		return nil, fmt.Errorf("queue: read blob %.12s: %w", key, err)
	}
	if BlobKey(data) != key {
		return nil, fmt.Errorf("queue: blob %.12s: its bytes do not hash to its key", key)
	}
	return data, nil
}

// DeleteBlob removes the blob stored under key; a missing blob is no error.
func (q *Queue) DeleteBlob(ctx context.Context, key string) error {
	if err := q.blobs.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("queue: delete blob %.12s: %w", key, err)
	}
	return nil
}
