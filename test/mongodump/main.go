// Command mongodump prints a MongoDB database as sorted, canonical lines so
// two databases can be compared with diff (the deploy suites compare a
// killed-and-re-run migration with an uninterrupted one):
//
//	<collection>\tindex <name> <key as JSON>
//	<collection>\t<document as JSON, _id left out, keys sorted>
//
// _id is left out because OpenIM's marker documents get random ObjectIDs;
// a duplicated document still shows as a second line. Collections whose
// names match -exclude (by default the supervisor's own lease and
// checkpoint collections) are left out. A test tool, not shipped.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB URI")
	db := flag.String("db", "openim_v3", "database")
	exclude := flag.String("exclude", "^openim_supervisor_", "regexp of collection names to leave out")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on the whole dump")
	flag.Parse()
	ex, err := regexp.Compile(*exclude)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mongodump: -exclude: %v\n", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	lines, err := dump(ctx, *uri, *db, ex)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mongodump %s %s: %v\n", *uri, *db, err)
		os.Exit(1)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
}

func dump(ctx context.Context, uri, name string, exclude *regexp.Regexp) ([]string, error) {
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	db := client.Database(name)
	colls, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	var out []string
	for _, c := range colls {
		if exclude.MatchString(c) {
			continue
		}
		idx, err := db.Collection(c).Indexes().List(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: list indexes: %w", c, err)
		}
		var specs []struct {
			Name   string `bson:"name"`
			Key    bson.D `bson:"key"` // in order: a compound key's order matters
			Unique bool   `bson:"unique"`
		}
		if err := idx.All(ctx, &specs); err != nil {
			return nil, fmt.Errorf("%s: read indexes: %w", c, err)
		}
		for _, s := range specs {
			key, err := json.Marshal(s.Key)
			if err != nil {
				return nil, fmt.Errorf("%s: index %s: %w", c, s.Name, err)
			}
			out = append(out, fmt.Sprintf("%s\tindex %s %s unique=%v", c, s.Name, key, s.Unique))
		}
		cur, err := db.Collection(c).Find(ctx, bson.D{}, options.Find().SetProjection(bson.M{"_id": 0}))
		if err != nil {
			return nil, fmt.Errorf("%s: find: %w", c, err)
		}
		for cur.Next(ctx) {
			var m map[string]any
			if err := bson.Unmarshal(cur.Current, &m); err != nil {
				_ = cur.Close(ctx)
				return nil, fmt.Errorf("%s: decode: %w", c, err)
			}
			b, err := json.Marshal(m) // map keys sorted: canonical
			if err != nil {
				_ = cur.Close(ctx)
				return nil, fmt.Errorf("%s: encode: %w", c, err)
			}
			out = append(out, c+"\t"+string(b))
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", c, err)
		}
	}
	slices.Sort(out)
	return out, nil
}
