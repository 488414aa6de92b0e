package migrations

// v383Indexes creates the indexes OpenIM 3.8.3 adds (golang-migrate file
// mongo/0003_v3_8_3_indexes): s3 by create_time and by key.
func v383Indexes() Step {
	return schemaStep("3.8.3", "indexes",
		"create OpenIM 3.8.3's new s3 indexes (create_time, key) (golang-migrate 0003)", 3, []string{"s3"})
}
