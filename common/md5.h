/*
 * MD5 (RFC 1321), one-shot. Only for hash_64's category/consumer-group key,
 * which Message DB defines through md5(): not for anything security-related.
 * Self-contained so that a per-row hash does not pay OpenSSL's provider
 * look-up (EVP_MD_fetch) on every call, and so that the extension and the
 * gateway share one implementation without linking libcrypto for it.
 */
#ifndef EVENTODB_COMMON_MD5_H
#define EVENTODB_COMMON_MD5_H

#include <stddef.h>

#define EVO_MD5_DIGEST_LEN 16

void		evo_md5(const void *data, size_t len, unsigned char digest[EVO_MD5_DIGEST_LEN]);

#endif
