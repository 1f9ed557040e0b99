"""Analytics: Kinesis streams of the platform's events, and the data lake they land in
(Firehose to Parquet under the Glue catalog, queried through an Athena workgroup)."""
