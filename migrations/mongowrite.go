package migrations

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// insertNew inserts docs unordered and returns how many were written and the
// indexes (into docs) of those that hit a duplicate key, which the caller
// resolves (a replayed batch, or a document someone else wrote). Any other
// write error fails the call. Inserts, not upserts: MongoDB-wire servers such
// as FerretDB make an insert far cheaper than an upsert.
func insertNew(ctx context.Context, coll *mongo.Collection, docs []any) (written int64, dups []int, err error) {
	res, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if res != nil {
		written = int64(len(res.InsertedIDs))
	}
	if err == nil {
		return written, nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return written, nil, fmt.Errorf("insert into %s: %w", coll.Name(), err)
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return written, nil, fmt.Errorf("insert into %s: document %d: %w", coll.Name(), we.Index, err)
		}
		dups = append(dups, we.Index)
	}
	if res == nil || len(res.InsertedIDs) == 0 {
		written = int64(len(docs) - len(dups))
	}
	return written, dups, nil
}
