/* One NDJSON import record (docs/http-api.md#bulk-import-import): shape validation as
 * Go's json.Unmarshal into the original's record struct does it, and the
 * record's rendering for eventodb.import_batch. */
#ifndef GW_IMPORT_RECORD_H
#define GW_IMPORT_RECORD_H

#include "strbuf.h"

#include <stddef.h>
#include <stdint.h>

typedef enum ImportRecordResult
{
	RECORD_OK,
	RECORD_INVALID_JSON,		/* *why: the JSON detail */
	RECORD_INVALID_RECORD		/* *why: the time parse detail */
} ImportRecordResult;

/*
 * Validates line[0..len) and on success appends the record as a JSON object
 * {"id","stream","type","pos","gpos","data","meta","time"} to out (time
 * normalised to UTC) and stores its gpos. On failure appends the detail to
 * why and leaves out unchanged.
 */
ImportRecordResult import_record(const char *line, size_t len, StrBuf *out,
								 int64_t *gpos, StrBuf *why);

#endif
