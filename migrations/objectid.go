package migrations

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The _id of every document the migrations write is an ObjectID, which is
// what OpenIM declares (3.8's model.Friend has `ID primitive.ObjectID
// bson:"_id"`) and what its driver generates for every other collection.
// It is deterministic, so a replayed batch hits the same _ids and writes
// nothing twice, and its time part comes from the row's create time, so
// OpenIM's `{is_pinned: -1, _id: 1}` friend order is the order friends
// were added:
//
//	bytes 0-3   seconds since the Unix epoch of t (0 for earlier times,
//	            0xFFFFFFFF after 2106), big-endian, as in every ObjectID
//	bytes 4-5   the milliseconds of t (0-999), so rows of one second keep
//	            their order
//	bytes 6-11  SHA-256(collection, 0, identity)[:6]: the row's identity
//	            (its unique key, or for a table without one every column
//	            and the row's occurrence among identical rows)
func objectID(t time.Time, coll string, identity []byte) primitive.ObjectID {
	var id primitive.ObjectID
	sec := t.Unix()
	ms := t.Nanosecond() / int(time.Millisecond)
	switch {
	case sec < 0:
		sec, ms = 0, 0
	case sec > 0xFFFFFFFF:
		sec, ms = 0xFFFFFFFF, 999
	}
	binary.BigEndian.PutUint32(id[0:4], uint32(sec))
	binary.BigEndian.PutUint16(id[4:6], uint16(ms))
	h := sha256.New()
	h.Write([]byte(coll))
	h.Write([]byte{0})
	h.Write(identity)
	copy(id[6:], h.Sum(nil)[:6])
	return id
}

// identity appends values to b so that no two different value lists give
// the same bytes: each value is length-prefixed, and NULL (nil) is marked
// apart from the empty string.
func identity(b []byte, values ...[]byte) []byte {
	for _, v := range values {
		if v == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// identityOf returns the identity part of an ObjectID written by objectID.
func identityOf(id primitive.ObjectID) (out [6]byte) {
	copy(out[:], id[6:])
	return out
}
