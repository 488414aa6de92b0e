package upgrade

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// backup copies the OpenIM config dir (and the old 3.4 config) and exports
// the collections the pending steps write, as MongoDB extended JSON, one
// document per line, into <stateDir>/backup/<UTC time>/.
func backup(ctx context.Context, o *Options, db func(context.Context) (*mongo.Database, error), colls []string) (string, error) {
	dir := filepath.Join(o.StateDir, "backup", time.Now().UTC().Format("20060102T150405Z"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create backup dir %s: %w", dir, err)
	}
	if o.OpenIMConfigDir != "" {
		if _, err := os.Stat(o.OpenIMConfigDir); err == nil {
			if err := copyTree(o.OpenIMConfigDir, filepath.Join(dir, "config")); err != nil {
				return dir, fmt.Errorf("back up config dir: %w", err)
			}
		}
	}
	if o.OldConfig != "" {
		if err := copyFile(o.OldConfig, filepath.Join(dir, "old-config", filepath.Base(o.OldConfig))); err != nil {
			return dir, fmt.Errorf("back up old config: %w", err)
		}
	}
	if len(colls) == 0 {
		return dir, nil
	}
	d, err := db(ctx)
	if err != nil {
		return dir, err
	}
	for _, c := range colls {
		if err := exportCollection(ctx, d.Collection(c), filepath.Join(dir, "mongo", c+".jsonl")); err != nil {
			return dir, fmt.Errorf("back up collection %s: %w", c, err)
		}
	}
	return dir, nil
}

func exportCollection(ctx context.Context, c *mongo.Collection, path string) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriter(f)
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		b, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
