package openimtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// redisDBs is how many Redis databases test-services.sh gives Redis
// (--databases 1000); database 0 holds the allocation counter.
const redisDBs = 1000

// allocRedisDB gives the deployment a Redis database number of its own: a
// counter in database 0 hands them out round-robin over 1..999 (so up to
// 999 deployments may run at once on one Redis), and the database is
// flushed before use.
func allocRedisDB(ctx context.Context, addr string) (int, error) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.Incr(ctx, "openimtest:redis-db-counter").Result()
	if err != nil {
		return 0, fmt.Errorf("allocate a Redis database on %s: %w", addr, err)
	}
	db := 1 + int((n-1)%(redisDBs-1))
	if err := flushRedisDB(ctx, addr, db); err != nil {
		return 0, err
	}
	return db, nil
}

func flushRedisDB(ctx context.Context, addr string, db int) error {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer c.Close()
	if err := c.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush Redis database %d on %s: %w", db, addr, err)
	}
	return nil
}

// DropMessageCache deletes the deployment's cached messages from its Redis
// database (OpenIM 3.8.3's keys MSG_CACHE:<conversationID>:<seq>), so that
// the next /msg/pull_msg_by_seq reads them from Mongo. It returns how many
// keys it deleted.
func (d *Deployment) DropMessageCache(ctx context.Context) (int, error) {
	c := redis.NewClient(&redis.Options{Addr: d.Env.RedisAddr, DB: d.RedisDB})
	defer c.Close()
	n := 0
	iter := c.Scan(ctx, 0, "MSG_CACHE:*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			return n, fmt.Errorf("delete %s from Redis database %d: %w", iter.Val(), d.RedisDB, err)
		}
		n++
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("scan Redis database %d for MSG_CACHE keys: %w", d.RedisDB, err)
	}
	return n, nil
}

// dropData removes what the deployment left on the shared servers: its Mongo
// database, its Redis database, its etcd keys and its Kafka topics and
// groups. The S3 bucket lives in memory in test/components and goes with it.
func (d *Deployment) dropData(ctx context.Context) error {
	var errs []error
	if c, err := mongo.Connect(ctx, options.Client().ApplyURI(d.Env.MongoURI)); err != nil {
		errs = append(errs, fmt.Errorf("connect to Mongo: %w", err))
	} else {
		if err := c.Database(d.MongoDatabase).Drop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drop Mongo database %s: %w", d.MongoDatabase, err))
		}
		_ = c.Disconnect(ctx)
	}
	errs = append(errs, flushRedisDB(ctx, d.Env.RedisAddr, d.RedisDB))
	errs = append(errs, etcdDeletePrefix(ctx, d.Env.EtcdAddr, d.EtcdRoot+"/"))
	errs = append(errs, d.dropKafka(ctx))
	return errors.Join(errs...)
}

// etcdDeletePrefix deletes every key under prefix through etcd's JSON
// gateway (/v3/kv/deleterange), so the tests need no etcd client library.
func etcdDeletePrefix(ctx context.Context, addr, prefix string) error {
	end := []byte(prefix)
	end[len(end)-1]++ // the prefix's range end: its last byte + 1
	body, err := json.Marshal(map[string]string{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/v3/kv/deleterange", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("delete etcd keys %s*: %w", prefix, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("delete etcd keys %s*: %s: %s", prefix, resp.Status, b)
	}
	return nil
}

// StoredMessage is a message as OpenIM 3.8.3 keeps it in Mongo (collection
// msg, documents "<conversationID>:<n>" of 100 slots each).
type StoredMessage struct {
	Seq         int64
	SendID      string
	ClientMsgID string
	Content     string
}

// StoredMessages reads conversationID's messages straight from the
// deployment's Mongo database, in slot order: what openim-msgtransfer wrote,
// without OpenIM's API or its Redis cache. For failure messages and for
// checks that the API cannot make (duplicates, gaps).
func (d *Deployment) StoredMessages(ctx context.Context, conversationID string) ([]StoredMessage, error) {
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(d.Env.MongoURI))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.Env.MongoURI, err)
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	filter := bson.M{"doc_id": bson.M{"$regex": "^" + regexp.QuoteMeta(conversationID) + ":[0-9]+$"}}
	cur, err := c.Database(d.MongoDatabase).Collection("msg").Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read the msg documents of %s: %w", conversationID, err)
	}
	var docs []struct {
		DocID string `bson:"doc_id"`
		Msgs  []struct {
			Msg *struct {
				Seq         int64  `bson:"seq"`
				SendID      string `bson:"send_id"`
				ClientMsgID string `bson:"client_msg_id"`
				Content     string `bson:"content"`
			} `bson:"msg"`
		} `bson:"msgs"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("decode the msg documents of %s: %w", conversationID, err)
	}
	sort.Slice(docs, func(i, j int) bool { return docNum(docs[i].DocID) < docNum(docs[j].DocID) })
	var out []StoredMessage
	for _, doc := range docs {
		for _, m := range doc.Msgs {
			if m.Msg != nil && m.Msg.Seq != 0 {
				out = append(out, StoredMessage{Seq: m.Msg.Seq, SendID: m.Msg.SendID, ClientMsgID: m.Msg.ClientMsgID, Content: m.Msg.Content})
			}
		}
	}
	return out, nil
}

func docNum(docID string) int {
	n, _ := strconv.Atoi(docID[strings.LastIndexByte(docID, ':')+1:])
	return n
}
