/* crc32.h - CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's
 * crc32()), the check value of every record the firmware keeps on flash:
 * the two-slot store's headers and payloads and the message store's records.
 * Changing it changes those stored formats. */
#ifndef CRC32_H
#define CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Pass 0 to start, the previous result to continue over more data:
 * crc32_update(crc32_update(0, a, n), b, m) is the CRC of a then b.
 * crc32_update(0, "123456789", 9) = 0xCBF43926 (the standard check value). */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif /* CRC32_H */
