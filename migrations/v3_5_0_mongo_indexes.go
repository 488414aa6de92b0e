package migrations

// v350MongoIndexes creates the unique indexes of OpenIM 3.5's collections
// (golang-migrate file mongo/0001_v3_5_0_indexes.up.json) before the data
// step, so that the data step's upserts by natural key are index lookups.
func v350MongoIndexes() Step {
	return schemaStep("3.5.0", "mongo-indexes",
		"create OpenIM 3.5's unique indexes on the 15 migrated collections (golang-migrate 0001)", 1,
		[]string{"user", "friend", "friend_request", "black", "group", "group_member", "group_request",
			"conversation", "s3", "log", "signal", "signal_invitation", "meeting", "meeting_invitation", "meeting_record"})
}
