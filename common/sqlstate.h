/*
 * SQLSTATEs as the gateway reads them from libpq (and the extension writes
 * them into batch results): named once instead of string literals at every
 * comparison. The extension raises the EV* codes through the matching
 * ERRCODE_EV_* (extension/namespace.h, extension/subscription.h).
 */
#ifndef EVENTODB_SQLSTATE_H
#define EVENTODB_SQLSTATE_H

/* Ours (class EV). */
#define SQLSTATE_EV_VERSION_CONFLICT	"EV001"
#define SQLSTATE_EV_NOT_FOUND			"EV002"
#define SQLSTATE_EV_EXISTS				"EV003"
#define SQLSTATE_EV_SUB_NOT_FOUND		"EV010"
#define SQLSTATE_EV_SUB_EXISTS			"EV011"
#define SQLSTATE_EV_DELIVERY_EXPIRED	"EV012"
#define SQLSTATE_EV_STREAM_DELETED		"EV020"
#define SQLSTATE_EV_MESSAGE_NOT_FOUND	"EV021"
#define SQLSTATE_EV_MESSAGE_ID_CONFLICT	"EV030"

/* PostgreSQL's. */
#define SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE	"22003"
#define SQLSTATE_INVALID_PARAMETER_VALUE	"22023"
#define SQLSTATE_INVALID_TEXT_REPRESENTATION "22P02"
#define SQLSTATE_UNIQUE_VIOLATION		"23505"
#define SQLSTATE_INVALID_SCHEMA_NAME	"3F000"
#define SQLSTATE_UNDEFINED_FUNCTION		"42883"

/* Class prefixes: connection exceptions, and shutdowns / a server still
 * starting (57P01-57P03). */
#define SQLSTATE_CLASS_CONNECTION		"08"
#define SQLSTATE_PREFIX_SHUTDOWN		"57P"

#endif
