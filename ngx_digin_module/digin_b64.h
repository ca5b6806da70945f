/*
 * Copyright (C) Digin gateway developers
 *
 * base64url (RFC 4648 section 5) without padding, as JOSE uses it.
 */


#ifndef _DIGIN_B64_H_INCLUDED_
#define _DIGIN_B64_H_INCLUDED_


#include <stddef.h>


/* bytes needed to decode / encode len input bytes */
#define digin_b64url_decoded_len(len)  (((len) * 3) / 4)
#define digin_b64url_encoded_len(len)  (((len) * 4 + 2) / 3)


/*
 * Decodes strictly: only the base64url alphabet, no padding, no white
 * space, and the unused low bits of the last character must be zero (so
 * each byte string has exactly one accepted encoding).  Returns the
 * decoded length, or -1 when the input is not canonical base64url.
 */
long digin_b64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len);

/* Encodes without padding; returns the encoded length. */
size_t digin_b64url_encode(unsigned char *dst, const unsigned char *src,
    size_t len);


#endif /* _DIGIN_B64_H_INCLUDED_ */
