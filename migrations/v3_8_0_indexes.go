package migrations

// v380Indexes creates the indexes OpenIM 3.8.0 adds (golang-migrate file
// mongo/0002_v3_8_0_indexes): seq and seq_user, whose indexes OpenIM does
// not make unique (a unique index of the same name would make OpenIM's own
// createIndexes fail on MongoDB with IndexOptionsConflict), and the unique
// d_id of the incremental-sync version collections.
func v380Indexes() Step {
	return schemaStep("3.8.0", "indexes",
		"create OpenIM 3.8's indexes: seq, seq_user and the version_log collections (golang-migrate 0002)", 2,
		[]string{"seq", "seq_user", "friend_version", "conversation_version", "group_member_version", "group_join_version"})
}
