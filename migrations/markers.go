package migrations

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// OpenIM's own markers, written by its tools and honoured by ours.
const (
	// Marker35Collection/Key: tools/up35 writes {key: "data_version", value: "35"}.
	Marker35Collection = "dataver"
	Marker35Key        = "data_version"
	Marker35Value      = 35
	// Marker38Collection/Key: tools/seq writes {key: "seq", value: "38"}.
	Marker38Collection = "data_version"
	Marker38Key        = "seq"
	Marker38Value      = 38
)

// ReadMarker returns the integer value of OpenIM's marker document
// {key: key, value: "NN"} in coll, or 0 when it is absent.
func ReadMarker(ctx context.Context, db *mongo.Database, coll, key string) (int, error) {
	var doc struct {
		Value any `bson:"value"`
	}
	err := db.Collection(coll).FindOne(ctx, bson.M{"key": key}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read marker %s{key:%s}: %w", coll, key, err)
	}
	switch v := doc.Value.(type) {
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("marker %s{key:%s}: value %q is not a number", coll, key, v)
		}
		return n, nil
	case int32:
		return int(v), nil
	case int64:
		return int(v), nil
	case float64:
		return int(v), nil
	default:
		return 0, fmt.Errorf("marker %s{key:%s}: unexpected value type %T", coll, key, v)
	}
}

// WriteMarker sets OpenIM's marker {key: key, value: "NN"} (a string, as
// OpenIM's tools write it), never lowering an existing higher value.
func WriteMarker(ctx context.Context, db *mongo.Database, coll, key string, value int) error {
	cur, err := ReadMarker(ctx, db, coll, key)
	if err != nil {
		return err
	}
	if cur >= value {
		return nil
	}
	_, err = db.Collection(coll).UpdateOne(ctx, bson.M{"key": key},
		bson.M{"$set": bson.M{"value": strconv.Itoa(value)}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write marker %s{key:%s}=%d: %w", coll, key, value, err)
	}
	return nil
}

func markerApplied(coll, key string, value int) func(ctx context.Context, env *Env) (bool, error) {
	return func(ctx context.Context, env *Env) (bool, error) {
		db, err := env.Mongo(ctx)
		if err != nil {
			return false, err
		}
		v, err := ReadMarker(ctx, db, coll, key)
		return v >= value, err
	}
}

func markerWriter(coll, key string, value int) func(ctx context.Context, env *Env) error {
	return func(ctx context.Context, env *Env) error {
		db, err := env.Mongo(ctx)
		if err != nil {
			return err
		}
		return WriteMarker(ctx, db, coll, key, value)
	}
}
