package migrations

// v350Indexes creates the indexes OpenIM 3.5 creates on the collections the
// 3.5.0 data step writes (golang-migrate file mongo/0001_v3_5_0_indexes):
// the same keys, names, uniqueness and directions as its constructors
// (pkg/common/db/mgo in v3.5.0, up35's rtc/mongo/mgo), so that OpenIM's own
// createIndexes at start-up finds them equal, and the data step's unique
// keys are enforced while it writes.
func v350Indexes() Step {
	return schemaStep("3.5.0", "indexes",
		"create OpenIM 3.5's indexes on the 15 migrated collections (golang-migrate 0001)", 1,
		[]string{"user", "friend", "friend_request", "black", "group", "group_member", "group_request",
			"conversation", "s3", "log", "signal", "signal_invitation", "meeting", "meeting_invitation", "meeting_record"})
}
