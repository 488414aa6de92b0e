package migrations

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// v383LogAppFramework adds log.app_framework, the field OpenIM 3.8.3's
// model.Log gained (open-im-server #2927: uploads now store the client's
// framework there instead of in system_type). OpenIM writes it on every new
// log; older documents get "" (OpenIM's value for "not given"), so every
// log document has the fields of 3.8.3's model. system_type is left as it
// is: 3.8.3 still returns it to clients.
func v383LogAppFramework() Step {
	s := migrateStep("3.8.3", "log-app-framework",
		"add log.app_framework (\"\") to log documents written before OpenIM 3.8.3 (golang-migrate 0004)", 4, []string{"log"}, true)
	s.Estimate = func(ctx context.Context, env *Env) (string, error) {
		db, err := env.Mongo(ctx)
		if err != nil {
			return "", err
		}
		n, err := db.Collection("log").CountDocuments(ctx, missingAppFramework)
		if err != nil {
			return "", fmt.Errorf("count log: %w", err)
		}
		return fmt.Sprintf("%d log documents without app_framework", n), nil
	}
	s.Verify = func(ctx context.Context, env *Env, ran Counts) (Counts, error) {
		db, err := env.Mongo(ctx)
		if err != nil {
			return ran, err
		}
		n, bad, err := checkCollection(ctx, db.Collection("log"), "3.8.3")
		ran = append(ran, TableCount{Table: "log", Target: "log (OpenIM 3.8.3's model)", Source: n, InTarget: n - int64(len(bad))})
		if err != nil {
			return ran, err
		}
		if len(bad) > 0 {
			return ran, fmt.Errorf("log: %d documents OpenIM 3.8.3 cannot read as its model: %s", len(bad), firstN(bad, 5))
		}
		return ran, nil
	}
	return s
}

var missingAppFramework = bson.D{{Key: "app_framework", Value: bson.D{{Key: "$exists", Value: false}}}}

// checkCollection decodes every document of coll into OpenIM's model at
// version v and returns the count and the failures.
func checkCollection(ctx context.Context, coll *mongo.Collection, v string) (int64, []string, error) {
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	defer cur.Close(ctx)
	var n int64
	var bad []string
	for cur.Next(ctx) {
		n++
		if err := openimmodel.CheckAt(cur.Current, openimmodel.For(coll.Name()), v); err != nil {
			bad = append(bad, fmt.Sprintf("_id %s: %v", cur.Current.Lookup("_id"), err))
		}
	}
	if err := cur.Err(); err != nil {
		return n, bad, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	return n, bad, nil
}
