/*
 * capture_write.h - writing frames to a capture file, as tcpdump -w and
 * Wireshark's "Export Specified Packets" do: classic pcap (one link type)
 * or pcapng (one Interface Description Block per interface, each named).
 *
 * The frames are written byte for byte as they were captured, with their
 * capture and wire lengths and their time (microseconds or nanoseconds in
 * pcap, nanoseconds in pcapng).  Both formats are written here directly,
 * little-endian (readers accept either byte order); nothing here knows
 * libpcap.
 *
 * Ownership: the writer owns its FILE and its interface names; the caller
 * owns the writer and ends it with capture_writer_close(), which reports
 * a write error seen at any point.
 */
#ifndef FT_CAPTURE_WRITE_H
#define FT_CAPTURE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_WRITE_MAX_INTERFACES 256 /* pcapng interfaces per file */

enum capture_write_format {
    CAPTURE_WRITE_PCAP,
    CAPTURE_WRITE_PCAPNG,
};

struct capture_writer;

/* Creates (or truncates) path.  pcap: `linktype` and `snaplen` go into
 * the file header, `nano` picks nanosecond timestamps.  pcapng: the
 * arguments besides path and format are unused (interfaces are added with
 * capture_writer_interface).  NULL with a one-line reason in err. */
struct capture_writer *capture_writer_open(const char *path, enum capture_write_format format, int linktype,
                                           uint32_t snaplen, bool nano, char *err, size_t errlen);

/* pcapng: describes an interface (link type, snaplen, name shown by
 * Wireshark; description may be NULL) and returns its index for
 * capture_writer_frame(), or -1 when CAPTURE_WRITE_MAX_INTERFACES are
 * there or the write failed.  pcap: returns 0 when linktype is the file's,
 * -1 otherwise (a pcap file holds one link type). */
int capture_writer_interface(struct capture_writer *w, int linktype, uint32_t snaplen, const char *name,
                             const char *description);

/* Writes one frame on interface `iface` (pcap: 0).  0, or -1 after a
 * write error (the error is kept for capture_writer_close). */
int capture_writer_frame(struct capture_writer *w, int iface, int64_t ts_ns, const uint8_t *data,
                         uint32_t caplen, uint32_t wirelen);

/* Frames written so far. */
uint64_t capture_writer_frames(const struct capture_writer *w);

/* The path given at open (owned by w). */
const char *capture_writer_path(const struct capture_writer *w);

/* Flushes and closes the file and frees w (NULL is fine).  0, or -1 with
 * errno set when any write (or the close) failed. */
int capture_writer_close(struct capture_writer *w);

#endif
