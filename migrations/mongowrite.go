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
	// The driver's InsertedIDs may list every document sent; what was
	// written is what did not fail.
	written = int64(len(docs) - len(dups))
	return written, dups, nil
}

// maxUpdatesPerCommand bounds the update statements sent in one command.
// FerretDB 1.24 (SQLite) keeps each statement's cursor open until the whole
// command ends and has a pool of 100 connections, so a command of about 100
// updates waits for a connection forever, holding the database's writer:
// every other write, the upgrade lease's renewal included, hangs behind it.
// MongoDB takes up to 100,000 per command; 50 costs a round trip per 50.
const maxUpdatesPerCommand = 50

// bulkUpdate runs models unordered, in commands of at most
// maxUpdatesPerCommand, and returns the summed result.
func bulkUpdate(ctx context.Context, coll *mongo.Collection, models []mongo.WriteModel) (*mongo.BulkWriteResult, error) {
	sum := &mongo.BulkWriteResult{}
	for i := 0; i < len(models); i += maxUpdatesPerCommand {
		r, err := coll.BulkWrite(ctx, models[i:min(i+maxUpdatesPerCommand, len(models))], options.BulkWrite().SetOrdered(false))
		if r != nil {
			sum.MatchedCount += r.MatchedCount
			sum.ModifiedCount += r.ModifiedCount
			sum.UpsertedCount += r.UpsertedCount
		}
		if err != nil {
			return sum, fmt.Errorf("update %s: %w", coll.Name(), err)
		}
	}
	return sum, nil
}
