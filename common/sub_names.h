/*
 * Names of persistent subscriptions (docs/subscriptions.md, "Names"): the
 * rules shared by the extension's SQL face and the gateway's RPC and /push
 * validation, so both faces accept exactly the same strings.
 */
#ifndef EVENTODB_SUB_NAMES_H
#define EVENTODB_SUB_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define SUB_NAME_MAX 100

/* 1-100 bytes of A-Z a-z 0-9 . _ - : */
bool		sub_name_valid(const char *s, size_t len);

/* 1-100 printable ASCII bytes (0x21-0x7E): consumer ids and delivery ids. */
bool		sub_consumer_valid(const char *s, size_t len);

#endif
