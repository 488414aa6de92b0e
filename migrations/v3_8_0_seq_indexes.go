package migrations

// v380SeqIndexes creates the unique indexes of OpenIM 3.8's seq and seq_user
// collections (golang-migrate file mongo/0002_v3_8_0_seq_indexes.up.json).
func v380SeqIndexes() Step {
	return schemaStep("3.8.0", "seq-indexes",
		"create the unique indexes of seq and seq_user (golang-migrate 0002)", 2, []string{"seq", "seq_user"})
}
