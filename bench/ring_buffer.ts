/**
 * What user_events writes cost in the kernel's ftrace ring buffer: bytes per event and pages
 * for a sequence of events, computed from the payload lengths (no kernel needed). The rule, from
 * `kernel/trace/ring_buffer.c` (`rb_calculate_event_length`, `rb_move_tail`/`rb_reset_tail`) and
 * `trace_events_user.c` (`user_event_ftrace`), for x86_64 and arm64 (4-byte ring alignment):
 *
 * - the record is `trace_entry` (8) + the event's fields `protocol`, `version`, `rel_loc` (16)
 *   + the payload N: 24 + N bytes;
 * - the ring-buffer event adds a 4-byte header, and 4 more for the length when the record is
 *   over 112 bytes (N > 88, every metric event); padded to 4: ALIGN(24 + N + 8, 4);
 * - a 4,096-byte page holds 4,096 − 16 (page header) = 4,080 bytes of events, and an event
 *   never spans pages: the one that does not fit pads the rest of its page and starts the next.
 *
 * So the largest ftrace payload (4,048) makes an event of exactly one page. Not counted: the
 * 8-byte time extend the kernel inserts before an event coming more than 2^27 ns (134 ms) after
 * the previous one on that CPU (once per export at most, against hundreds of pages), and the
 * page an export starts on being partly used already (every count starts on an empty page).
 *
 * ```ts
 * import { pagesFor, ringEventSize } from "./ring_buffer.ts";
 * console.log(ringEventSize(4048), pagesFor([4048, 4048, 100])); // 4080 3
 * ```
 *
 * @module
 */

/** Bytes of a page that hold events: 4,096 − the 16-byte page header (`BUF_PAGE_HDR_SIZE`). */
export const PAGE_DATA_SIZE: number = 4096 - 16;
/** `trace_entry` (common_type, flags, preempt_count, pid) + protocol, version[8], rel_loc. */
export const RECORD_HEADER_SIZE: number = 8 + 16;
/** Records up to this size get the 4-byte event header only (`RB_MAX_SMALL_DATA` = 28 × 4). */
const MAX_SMALL_DATA = 112;

/** Ring-buffer bytes of one user_events event with a payload of `payload` bytes. */
export function ringEventSize(payload: number): number {
  const record = RECORD_HEADER_SIZE + payload;
  const header = record > MAX_SMALL_DATA ? 8 : 4;
  return (record + header + 3) & ~3;
}

/** Pages the events of these payload lengths fill, written in order from an empty page. */
export function pagesFor(payloads: Iterable<number>): number {
  let pages = 0;
  let used = PAGE_DATA_SIZE; // "the current page is full": the first event opens a page
  for (const payload of payloads) {
    const size = ringEventSize(payload);
    if (size > PAGE_DATA_SIZE) throw new RangeError(`a ${payload}-byte payload fits no page`);
    if (used + size > PAGE_DATA_SIZE) {
      pages++;
      used = 0;
    }
    used += size;
  }
  return pages;
}
