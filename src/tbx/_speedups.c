/* tbx._speedups: the hot loops of tbx's TFRecord framing, scalar decoding and default histogram
 * buckets, in C.
 *
 * Optional: every function has a pure-Python equivalent in tbx.record / tbx.reader, which tbx uses
 * when this module is missing or TBX_NO_SPEEDUPS=1 is set. Semantics are documented (and tested
 * against the Python versions) in tbx/record.py.
 *
 * Record format (TensorFlow's record_writer): uint64 length | uint32 masked_crc32c(length bytes) |
 * data | uint32 masked_crc32c(data), little-endian. CRC32C is the Castagnoli CRC (reflected
 * polynomial 0x82F63B78); masked = ((c >> 15) | (c << 17)) + 0xA282EAD8.
 *
 * Functions:
 *   crc32c(data, value=0, hw=True) -> int       CRC32C continuing from `value` (unmasked)
 *   frame_records(payloads) -> bytes             frame each bytes-like payload, concatenated
 *   scan_records(buf, start, strict) -> (starts, lengths, end, corruptions)
 *   scan_events(buf, start, tags, tag_index) -> (end, corruptions, nrec, rows, others)
 *   histogram(values, is_f64, table, nbins, shift) -> None | (counts, ambiguous, min, max,
 *                                                             sum, sum_squares)
 * See the docstrings below for the layouts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TBX_HAVE_SSE42 1
#include <nmmintrin.h>
#endif

/* ------------------------------------------------------------------ CRC32C */

static uint32_t crc_table[8][256];
static int have_hw = 0;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xFF] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
#ifdef TBX_HAVE_SSE42
    __builtin_cpu_init();
    have_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}

/* Slicing-by-8 over the raw (pre-inverted) state. */
static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= crc;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
              crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#ifdef TBX_HAVE_SSE42
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
#if defined(__x86_64__)
    uint64_t c64 = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        n -= 8;
    }
    crc = (uint32_t)c64;
#endif
    while (n >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        crc = _mm_crc32_u32(crc, v);
        p += 4;
        n -= 4;
    }
    while (n--) crc = _mm_crc32_u8(crc, *p++);
    return ~crc;
}
#endif

static inline uint32_t crc32c(const uint8_t *p, size_t n) {
#ifdef TBX_HAVE_SSE42
    if (have_hw) return crc_hw(0, p, n);
#endif
    return crc_sw(0, p, n);
}

static inline uint32_t masked(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xA282EAD8u; }

static inline uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline void wr64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline void wr32(uint8_t *p, uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

/* ------------------------------------------------------------------ growable buffers */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *d = (char *)PyMem_Realloc(b->data, cap);
    if (!d) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

static inline int buf_put(Buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap && buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static void buf_free(Buf *b) {
    PyMem_Free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* A read-only buffer owning memory filled in C: handed to numpy (np.frombuffer) without a copy. */
typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t len;
} Block;

static char empty_block[1];

static int block_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Block *b = (Block *)self;
    return PyBuffer_FillInfo(view, self, b->data ? b->data : empty_block, b->len, 1, flags);
}

static void block_dealloc(PyObject *self) {
    PyMem_Free(((Block *)self)->data);
    Py_TYPE(self)->tp_free(self);
}

static Py_ssize_t block_length(PyObject *self) { return ((Block *)self)->len; }

static PyBufferProcs block_as_buffer = {block_getbuffer, NULL};
static PySequenceMethods block_as_sequence = {.sq_length = block_length};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tbx._speedups.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = block_dealloc,
    .tp_as_sequence = &block_as_sequence,
    .tp_as_buffer = &block_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Read-only bytes filled by tbx._speedups (supports the buffer protocol and len).",
};

/* Moves the Buf's memory into a new Block (the Buf is left empty). */
static PyObject *buf_to_bytes(Buf *b) {
    Block *o = PyObject_New(Block, &BlockType);
    if (!o) return NULL;
    o->data = b->data;
    o->len = (Py_ssize_t)b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return (PyObject *)o;
}

/* ------------------------------------------------------------------ crc32c(), frame_records() */

static PyObject *py_crc32c(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"data", "value", "hw", NULL};
    Py_buffer view;
    unsigned long value = 0;
    int hw = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|kp", kwlist, &view, &value, &hw)) return NULL;
    uint32_t c;
#ifdef TBX_HAVE_SSE42
    if (hw && have_hw)
        c = crc_hw((uint32_t)value, (const uint8_t *)view.buf, (size_t)view.len);
    else
#endif
        c = crc_sw((uint32_t)value, (const uint8_t *)view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(c);
}

static PyObject *py_frame_records(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "frame_records() takes an iterable of bytes-like objects");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_buffer *views = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Py_buffer));
    if (!views) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    Py_ssize_t got = 0, total = 0;
    PyObject *out = NULL;
    for (; got < n; got++) {
        if (PyObject_GetBuffer(items[got], &views[got], PyBUF_SIMPLE) < 0) goto done;
        total += views[got].len + 16;
    }
    out = PyBytes_FromStringAndSize(NULL, total);
    if (!out) goto done;
    uint8_t *w = (uint8_t *)PyBytes_AS_STRING(out);
    /* The views are held and `out` is not shared yet: the training thread may run meanwhile. */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t len = (size_t)views[i].len;
        wr64(w, (uint64_t)len);
        wr32(w + 8, masked(crc32c(w, 8)));
        memcpy(w + 12, views[i].buf, len);
        wr32(w + 12 + len, masked(crc32c(w + 12, len)));
        w += len + 16;
    }
    Py_END_ALLOW_THREADS
done:
    for (Py_ssize_t i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    PyMem_Free(views);
    Py_DECREF(seq);
    return out;
}

/* ------------------------------------------------------------------ framing scan */

/* Protobuf messages are limited to 2 GiB: a longer length field is corruption, never allocated. */
#define MAX_RECORD_LENGTH ((uint64_t)1 << 31)

static inline int header_ok(const uint8_t *b, size_t pos) {
    return masked(crc32c(b + pos, 8)) == rd32(b + pos + 8) && rd64(b + pos) < MAX_RECORD_LENGTH;
}

typedef int (*record_cb)(void *ctx, const uint8_t *buf, size_t start, size_t len);

/* Scans records from `pos`; calls cb on every good one. Corruptions are appended to `corr` as
 * (offset, skipped, reason). Returns the resume offset, or -1 on a Python error.
 * strict: stop at the first corruption (it is still appended to `corr`).
 * max_len: stop before a record (with a good header) whose data is longer than this; the caller
 * decides from its header whether to read it (only its length CRC has been checked). */
static Py_ssize_t scan_loop(const uint8_t *b, size_t size, size_t pos, int strict, PyObject *corr,
                            record_cb cb, void *ctx, uint64_t max_len) {
    while (pos + 12 <= size) {
        if (!header_ok(b, pos)) {
            const char *reason = masked(crc32c(b + pos, 8)) == rd32(b + pos + 8)
                                     ? "length field too large" : "header CRC mismatch";
            size_t limit = size - 12 + 1, nxt = pos + 1;
            if (!strict)
                while (nxt < limit && !header_ok(b, nxt)) nxt++;
            int found = !strict && nxt < limit;
            PyObject *t = Py_BuildValue("(nns)", (Py_ssize_t)pos,
                                        (Py_ssize_t)(found ? nxt - pos : 0), reason);
            if (!t || PyList_Append(corr, t) < 0) {
                Py_XDECREF(t);
                return -1;
            }
            Py_DECREF(t);
            if (!found) break;
            pos = nxt;
            continue;
        }
        uint64_t length = rd64(b + pos);
        if (length > max_len) break; /* left to the caller */
        size_t data_start = pos + 12;
        if (length > size || data_start + length + 4 > size) break; /* incomplete tail */
        size_t data_end = data_start + (size_t)length;
        if (masked(crc32c(b + data_start, (size_t)length)) != rd32(b + data_end)) {
            PyObject *t = Py_BuildValue("(nns)", (Py_ssize_t)pos,
                                        (Py_ssize_t)(data_end + 4 - pos), "data CRC mismatch");
            if (!t || PyList_Append(corr, t) < 0) {
                Py_XDECREF(t);
                return -1;
            }
            Py_DECREF(t);
            if (strict) break;
        } else if (cb(ctx, b, data_start, (size_t)length) < 0) {
            return -1;
        }
        pos = data_end + 4;
    }
    return (Py_ssize_t)pos;
}

typedef struct {
    Buf starts, lengths;
} RecCtx;

static int rec_cb(void *vctx, const uint8_t *buf, size_t start, size_t len) {
    RecCtx *c = (RecCtx *)vctx;
    int64_t s = (int64_t)start, l = (int64_t)len;
    if (buf_put(&c->starts, &s, 8) < 0 || buf_put(&c->lengths, &l, 8) < 0) return -1;
    return 0;
}

static PyObject *py_scan_records(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start = 0;
    int strict = 1;
    if (!PyArg_ParseTuple(args, "y*|np", &view, &start, &strict)) return NULL;
    if (start < 0 || start > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "start is outside the buffer");
        return NULL;
    }
    RecCtx ctx = {{0}, {0}};
    PyObject *corr = PyList_New(0), *res = NULL;
    if (!corr) goto done;
    Py_ssize_t end = scan_loop((const uint8_t *)view.buf, (size_t)view.len, (size_t)start, strict,
                               corr, rec_cb, &ctx, UINT64_MAX);
    if (end < 0) goto done;
    PyObject *s = buf_to_bytes(&ctx.starts), *l = buf_to_bytes(&ctx.lengths);
    if (s && l) res = Py_BuildValue("(OOnO)", s, l, end, corr);
    Py_XDECREF(s);
    Py_XDECREF(l);
done:
    Py_XDECREF(corr);
    buf_free(&ctx.starts);
    buf_free(&ctx.lengths);
    PyBuffer_Release(&view);
    return res;
}

/* ------------------------------------------------------------------ Event decoding */

static inline int rd_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        uint8_t byte = *p++;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *pp = p;
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Skips a field of wire type wt; 0 on malformed input. */
static inline int skip_field(const uint8_t **pp, const uint8_t *end, int wt) {
    uint64_t v;
    switch (wt) {
    case 0: return rd_varint(pp, end, &v);
    case 1: if (end - *pp < 8) return 0; *pp += 8; return 1;
    case 2:
        if (!rd_varint(pp, end, &v) || v > (uint64_t)(end - *pp)) return 0;
        *pp += v;
        return 1;
    case 5: if (end - *pp < 4) return 0; *pp += 4; return 1;
    default: return 0;
    }
}

/* Length-delimited field body: sets [*s, *e). */
static inline int rd_len(const uint8_t **pp, const uint8_t *end, const uint8_t **s, const uint8_t **e) {
    uint64_t v;
    if (!rd_varint(pp, end, &v) || v > (uint64_t)(end - *pp)) return 0;
    *s = *pp;
    *e = *pp + v;
    *pp += v;
    return 1;
}

static double half_to_double(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    double v;
    if (exp == 0) v = ldexp((double)man, -24);
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexp((double)(man | 0x400), exp - 25);
    return sign ? -v : v;
}

/* Fast path for a TensorProto holding exactly one number of a common dtype (any shape whose dims
 * are all 1). Returns 1 and sets *out, or 0 to leave the Value to the protobuf path. */
static int tensor_scalar(const uint8_t *p, const uint8_t *end, double *out) {
    uint64_t dtype = 0, tag, v;
    const uint8_t *content = NULL, *content_end = NULL, *vals = NULL, *vals_end = NULL;
    int val_field = 0, val_wt = -1, nval_fields = 0;
    while (p < end) {
        if (!rd_varint(&p, end, &tag)) return 0;
        int fn = (int)(tag >> 3), wt = (int)(tag & 7);
        if (fn == 1 && wt == 0) {
            if (!rd_varint(&p, end, &dtype)) return 0;
        } else if (fn == 2 && wt == 2) { /* TensorShapeProto: every dim must have size 1 */
            const uint8_t *s, *e;
            if (!rd_len(&p, end, &s, &e)) return 0;
            while (s < e) {
                if (!rd_varint(&s, e, &tag)) return 0;
                if ((tag >> 3) == 2 && (tag & 7) == 2) {
                    const uint8_t *ds, *de;
                    if (!rd_len(&s, e, &ds, &de)) return 0;
                    while (ds < de) {
                        if (!rd_varint(&ds, de, &tag)) return 0;
                        if ((tag >> 3) == 1 && (tag & 7) == 0) {
                            if (!rd_varint(&ds, de, &v) || v != 1) return 0;
                        } else if (!skip_field(&ds, de, (int)(tag & 7))) return 0;
                    }
                } else if ((tag >> 3) == 3) {
                    return 0; /* unknown_rank */
                } else if (!skip_field(&s, e, (int)(tag & 7))) return 0;
            }
        } else if (fn == 4 && wt == 2) {
            if (!rd_len(&p, end, &content, &content_end)) return 0;
        } else if (fn == 5 || fn == 6 || fn == 7 || fn == 10 || fn == 13) {
            nval_fields++;
            val_field = fn;
            val_wt = wt;
            if (wt == 2) {
                if (!rd_len(&p, end, &vals, &vals_end)) return 0;
            } else {
                vals = p;
                if (!skip_field(&p, end, wt)) return 0;
                vals_end = p;
            }
        } else if (fn == 3 || fn == 8 || fn == 9 || (fn >= 11 && fn != 13)) {
            return 0; /* version, strings, complex, resource, variant... */
        } else if (!skip_field(&p, end, wt)) {
            return 0;
        }
    }
    if (content && content_end > content) {
        size_t n = (size_t)(content_end - content);
        if (nval_fields) return 0;
        switch (dtype) {
        case 1: if (n != 4) return 0; { uint32_t b = rd32(content); float f; memcpy(&f, &b, 4); *out = f; } return 1;
        case 2: if (n != 8) return 0; { uint64_t b = rd64(content); double d; memcpy(&d, &b, 8); *out = d; } return 1;
        case 3: if (n != 4) return 0; *out = (double)(int32_t)rd32(content); return 1;
        case 9: if (n != 8) return 0; *out = (double)(int64_t)rd64(content); return 1;
        case 19: if (n != 2) return 0; *out = half_to_double((uint16_t)(content[0] | (content[1] << 8))); return 1;
        default: return 0;
        }
    }
    if (nval_fields != 1) return 0; /* none (zeros) or ambiguous: protobuf path */
    switch (dtype) {
    case 1: /* float_val: fixed32 */
        if (val_field != 5) return 0;
        if ((val_wt == 2 && vals_end - vals == 4) || val_wt == 5) {
            uint32_t b = rd32(val_wt == 2 ? vals : vals);
            float f;
            memcpy(&f, &b, 4);
            *out = f;
            return 1;
        }
        return 0;
    case 2:
        if (val_field != 6) return 0;
        if ((val_wt == 2 && vals_end - vals == 8) || val_wt == 1) {
            uint64_t b = rd64(vals);
            double d;
            memcpy(&d, &b, 8);
            *out = d;
            return 1;
        }
        return 0;
    case 3: case 9: case 19: {
        if ((dtype == 3 && val_field != 7) || (dtype == 9 && val_field != 10) ||
            (dtype == 19 && val_field != 13))
            return 0;
        const uint8_t *q = vals;
        if (val_wt == 0) { /* unpacked: vals points at the varint */
        } else if (val_wt != 2) {
            return 0;
        }
        if (!rd_varint(&q, vals_end, &v) || q != vals_end) return 0;
        if (dtype == 3) *out = (double)(int32_t)(uint32_t)v;
        else if (dtype == 9) *out = (double)(int64_t)v;
        else *out = half_to_double((uint16_t)v);
        return 1;
    }
    default:
        return 0;
    }
}

/* Row kinds, see scan_events(). */
#define KIND_SIMPLE 0
#define KIND_TENSOR_SCALAR 1
#define KIND_OTHER 2
#define TAG_SLOTS 1024

/* Per tag, dense columns: rec (i4), step (i8), wall (f8), value (f8), kind (u1); and a sparse
 * column `extra` of int64 5-tuples (row, value offset, value length, metadata offset, metadata
 * length) for the rows that are not a plain simple_value or that carry metadata. */
#define NCOLS 6
static const size_t col_width[NCOLS - 1] = {4, 8, 8, 8, 1};

typedef struct {
    Buf col[NCOLS];
    size_t n;
} TagCols;

typedef struct {
    int64_t rec, step, voff, vlen, moff, mlen;
    double wall, value;
    int32_t tid;
    uint8_t kind;
} Row;

typedef struct {
    TagCols *tags_cols; /* indexed by tag id */
    size_t ntags_cols;
    Row *pend; /* the Values of the record being decoded */
    size_t npend, cappend;
    Buf others; /* int64 triples (record ordinal, data offset, data length) */
    int64_t nrec;
    PyObject *tags;      /* list[bytes] */
    PyObject *tag_index; /* dict[bytes, int] */
    PyObject *want;      /* None, or callable(tag bytes) -> keep its rows? */
    uint8_t *keep;       /* per tag id: 0 not asked yet, 1 keep, 2 drop */
    size_t nkeep;
    PyObject *slot_obj[TAG_SLOTS]; /* tag cache, entries borrowed from `tags` */
    uint32_t slot_hash[TAG_SLOTS];
    int32_t slot_id[TAG_SLOTS];
    int nslots;
} EvCtx;

static inline uint32_t fnv1a(const uint8_t *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

static int32_t intern_tag(EvCtx *c, const uint8_t *s, size_t n) {
    uint32_t h = fnv1a(s, n);
    size_t i = h & (TAG_SLOTS - 1);
    for (;;) {
        PyObject *o = c->slot_obj[i];
        if (!o) break;
        if (c->slot_hash[i] == h && (size_t)PyBytes_GET_SIZE(o) == n &&
            memcmp(PyBytes_AS_STRING(o), s, n) == 0)
            return c->slot_id[i];
        i = (i + 1) & (TAG_SLOTS - 1);
    }
    PyObject *key = PyBytes_FromStringAndSize((const char *)s, (Py_ssize_t)n);
    if (!key) return -1;
    PyObject *idx = PyDict_GetItemWithError(c->tag_index, key);
    long id;
    if (idx) {
        id = PyLong_AsLong(idx);
        if (id == -1 && PyErr_Occurred()) {
            Py_DECREF(key);
            return -1;
        }
    } else {
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return -1;
        }
        id = (long)PyList_GET_SIZE(c->tags);
        PyObject *v = PyLong_FromLong(id);
        if (!v || PyDict_SetItem(c->tag_index, key, v) < 0 || PyList_Append(c->tags, key) < 0) {
            Py_XDECREF(v);
            Py_DECREF(key);
            return -1;
        }
        Py_DECREF(v);
    }
    if (id < 0 || id >= PyList_GET_SIZE(c->tags) || id > INT32_MAX) {
        Py_DECREF(key);
        PyErr_SetString(PyExc_ValueError, "tag_index does not match tags");
        return -1;
    }
    if (c->nslots < TAG_SLOTS / 2) {
        /* cache the list's own object (kept alive by the list for the whole call) */
        c->slot_obj[i] = PyList_GET_ITEM(c->tags, id);
        c->slot_hash[i] = h;
        c->slot_id[i] = (int32_t)id;
        c->nslots++;
    }
    Py_DECREF(key);
    return (int32_t)id;
}

static int other_record(EvCtx *c, size_t start, size_t len) {
    int64_t t[3] = {c->nrec, (int64_t)start, (int64_t)len};
    c->nrec++;
    return buf_put(&c->others, t, sizeof t);
}

/* 1 when the rows of tag id `tid` are wanted, 0 when not, -1 on a Python error. */
static int wanted(EvCtx *c, int32_t tid) {
    if (c->want == Py_None) return 1;
    if ((size_t)tid >= c->nkeep) {
        size_t n = c->nkeep ? c->nkeep : 64;
        while (n <= (size_t)tid) n *= 2;
        uint8_t *k = PyMem_Realloc(c->keep, n);
        if (!k) {
            PyErr_NoMemory();
            return -1;
        }
        memset(k + c->nkeep, 0, n - c->nkeep);
        c->keep = k;
        c->nkeep = n;
    }
    if (!c->keep[tid]) {
        PyObject *r = PyObject_CallOneArg(c->want, PyList_GET_ITEM(c->tags, tid));
        if (!r) return -1;
        int t = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (t < 0) return -1;
        c->keep[tid] = t ? 1 : 2;
    }
    return c->keep[tid] == 1;
}

static int emit(EvCtx *c, const Row *r) {
    if ((size_t)r->tid >= c->ntags_cols) {
        size_t n = c->ntags_cols ? c->ntags_cols : 16;
        while (n <= (size_t)r->tid) n *= 2;
        TagCols *t = PyMem_Realloc(c->tags_cols, n * sizeof(TagCols));
        if (!t) {
            PyErr_NoMemory();
            return -1;
        }
        memset(t + c->ntags_cols, 0, (n - c->ntags_cols) * sizeof(TagCols));
        c->tags_cols = t;
        c->ntags_cols = n;
    }
    TagCols *tc = &c->tags_cols[r->tid];
    Buf *col = tc->col;
    size_t k = tc->n;
    if ((k + 1) * 8 > col[1].cap) { /* the dense columns grow together */
        size_t rows = col[1].cap ? col[1].cap / 8 * 2 : 256;
        for (int i = 0; i < NCOLS - 1; i++) {
            char *d = PyMem_Realloc(col[i].data, rows * col_width[i]);
            if (!d) {
                PyErr_NoMemory();
                return -1;
            }
            col[i].data = d;
            col[i].cap = rows * col_width[i];
        }
    }
    ((int32_t *)col[0].data)[k] = (int32_t)r->rec;
    ((int64_t *)col[1].data)[k] = r->step;
    ((double *)col[2].data)[k] = r->wall;
    ((double *)col[3].data)[k] = r->value;
    ((uint8_t *)col[4].data)[k] = r->kind;
    for (int i = 0; i < NCOLS - 1; i++) col[i].len += col_width[i];
    tc->n = k + 1;
    if (r->kind != KIND_SIMPLE || r->mlen >= 0) {
        int64_t e[5] = {(int64_t)k, r->voff, r->vlen, r->moff, r->mlen};
        if (buf_put(&col[NCOLS - 1], e, sizeof e) < 0) return -1;
    }
    return 0;
}

/* Parses one Summary.Value into *row (tid not set; the tag is [*ts, *te)). 0: leave the record
 * to protobuf. */
static int parse_value(const uint8_t *vs, const uint8_t *ve, Row *row, const uint8_t **ts,
                       const uint8_t **te, const uint8_t *buf) {
    const uint8_t *r = vs, *m_s = NULL, *m_e = NULL;
    uint64_t tag;
    int kind = KIND_OTHER, npayload = 0;
    double value = 0.0;
    *ts = *te = NULL;
    while (r < ve) {
        if (!rd_varint(&r, ve, &tag)) return 0;
        int fn = (int)(tag >> 3), wt = (int)(tag & 7);
        if (fn == 1 && wt == 2) {
            if (!rd_len(&r, ve, ts, te)) return 0;
        } else if (fn == 2 && wt == 5) {
            if (ve - r < 4) return 0;
            uint32_t b = rd32(r);
            float f;
            memcpy(&f, &b, 4);
            value = f;
            kind = KIND_SIMPLE;
            npayload++;
            r += 4;
        } else if (fn == 9 && wt == 2) {
            if (m_s) return 0; /* repeated message: merge semantics, leave to protobuf */
            if (!rd_len(&r, ve, &m_s, &m_e)) return 0;
        } else if (fn == 8 && wt == 2) {
            const uint8_t *s, *e;
            if (!rd_len(&r, ve, &s, &e)) return 0;
            kind = tensor_scalar(s, e, &value) ? KIND_TENSOR_SCALAR : KIND_OTHER;
            npayload++;
        } else if (fn >= 3 && fn <= 6) {
            if (!skip_field(&r, ve, wt)) return 0;
            kind = KIND_OTHER;
            npayload++;
        } else if (!skip_field(&r, ve, wt)) {
            return 0;
        }
    }
    row->kind = (uint8_t)(npayload == 1 ? kind : KIND_OTHER);
    row->value = value;
    row->voff = (int64_t)(vs - buf);
    row->vlen = (int64_t)(ve - vs);
    row->moff = m_s ? (int64_t)(m_s - buf) : 0;
    row->mlen = m_s ? (int64_t)(m_e - m_s) : -1;
    return 1;
}

/* Decodes one Event: rows for its Summary Values, or the whole record as "other". */
static int ev_cb(void *vctx, const uint8_t *buf, size_t start, size_t len) {
    EvCtx *c = (EvCtx *)vctx;
    const uint8_t *p = buf + start, *end = p + len;
    double wall = 0.0;
    int64_t step = 0;
    const uint8_t *sum = NULL, *sum_end = NULL;
    uint64_t tag, v;
    while (p < end) {
        if (!rd_varint(&p, end, &tag)) return other_record(c, start, len);
        int fn = (int)(tag >> 3), wt = (int)(tag & 7);
        if (fn == 1 && wt == 1) {
            if (end - p < 8) return other_record(c, start, len);
            uint64_t b = rd64(p);
            memcpy(&wall, &b, 8);
            p += 8;
        } else if (fn == 2 && wt == 0) {
            if (!rd_varint(&p, end, &v)) return other_record(c, start, len);
            step = (int64_t)v;
        } else if (fn == 5 && wt == 2) {
            if (sum) return other_record(c, start, len); /* repeated: merge semantics */
            if (!rd_len(&p, end, &sum, &sum_end)) return other_record(c, start, len);
        } else if (fn >= 3 && fn <= 9) {
            return other_record(c, start, len);
        } else if (!skip_field(&p, end, wt)) {
            return other_record(c, start, len);
        }
    }
    if (!sum) return other_record(c, start, len);
    /* Parse every Value first; emit only if the whole record is understood. */
    c->npend = 0;
    const uint8_t *q = sum;
    while (q < sum_end) {
        if (!rd_varint(&q, sum_end, &tag)) return other_record(c, start, len);
        if ((tag >> 3) == 1 && (tag & 7) == 2) {
            const uint8_t *vs, *ve, *ts, *te;
            if (!rd_len(&q, sum_end, &vs, &ve)) return other_record(c, start, len);
            if (c->npend == c->cappend) {
                size_t cap = c->cappend ? c->cappend * 2 : 16;
                Row *r = PyMem_Realloc(c->pend, cap * sizeof(Row));
                if (!r) {
                    PyErr_NoMemory();
                    return -1;
                }
                c->pend = r;
                c->cappend = cap;
            }
            Row *row = &c->pend[c->npend];
            if (!parse_value(vs, ve, row, &ts, &te, buf)) return other_record(c, start, len);
            row->tid = ts ? intern_tag(c, ts, (size_t)(te - ts)) : intern_tag(c, (const uint8_t *)"", 0);
            if (row->tid < 0) return -1;
            c->npend++;
        } else if (!skip_field(&q, sum_end, (int)(tag & 7))) {
            return other_record(c, start, len);
        }
    }
    for (size_t i = 0; i < c->npend; i++) {
        Row *row = &c->pend[i];
        int w = wanted(c, row->tid);
        if (w < 0) return -1;
        if (!w) continue;
        row->rec = c->nrec;
        row->step = step;
        row->wall = wall;
        if (emit(c, row) < 0) return -1;
    }
    c->nrec++;
    return 0;
}

static PyObject *py_scan_events(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start = 0;
    PyObject *tags, *tag_index, *want = Py_None;
    long long limit = -1;
    if (!PyArg_ParseTuple(args, "y*nO!O!|OL", &view, &start, &PyList_Type, &tags, &PyDict_Type,
                          &tag_index, &want, &limit))
        return NULL;
    if (want != Py_None && !PyCallable_Check(want)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "want must be None or a callable");
        return NULL;
    }
    if (start < 0 || start > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "start is outside the buffer");
        return NULL;
    }
    EvCtx *ctx = PyMem_Calloc(1, sizeof(EvCtx));
    if (!ctx) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    ctx->tags = tags;
    ctx->tag_index = tag_index;
    ctx->want = want;
    PyObject *corr = PyList_New(0), *res = NULL, *rows = NULL, *others = NULL;
    if (!corr) goto done;
    Py_ssize_t end = scan_loop((const uint8_t *)view.buf, (size_t)view.len, (size_t)start, 0, corr,
                               ev_cb, ctx, limit < 0 ? UINT64_MAX : (uint64_t)limit);
    if (end < 0) goto done;
    rows = PyDict_New();
    if (!rows) goto done;
    for (size_t t = 0; t < ctx->ntags_cols; t++) {
        Buf *col = ctx->tags_cols[t].col;
        if (!ctx->tags_cols[t].n) continue;
        PyObject *tup = PyTuple_New(NCOLS);
        if (!tup) goto done;
        for (int i = 0; i < NCOLS; i++) {
            PyObject *b = buf_to_bytes(&col[i]);
            if (!b) {
                Py_DECREF(tup);
                goto done;
            }
            PyTuple_SET_ITEM(tup, i, b);
        }
        PyObject *key = PyLong_FromSize_t(t);
        int bad = !key || PyDict_SetItem(rows, key, tup) < 0;
        Py_XDECREF(key);
        Py_DECREF(tup);
        if (bad) goto done;
    }
    others = buf_to_bytes(&ctx->others);
    if (!others) goto done;
    res = Py_BuildValue("(nOLOO)", end, corr, (long long)ctx->nrec, rows, others);
done:
    Py_XDECREF(corr);
    Py_XDECREF(rows);
    Py_XDECREF(others);
    for (size_t t = 0; t < ctx->ntags_cols; t++)
        for (int i = 0; i < NCOLS; i++) buf_free(&ctx->tags_cols[t].col[i]);
    PyMem_Free(ctx->tags_cols);
    PyMem_Free(ctx->pend);
    PyMem_Free(ctx->keep);
    buf_free(&ctx->others);
    PyMem_Free(ctx);
    PyBuffer_Release(&view);
    return res;
}

/* ------------------------------------------------------------------ histogram
 *
 * One pass over float32 or float64 values for tbx.summary.histogram's default buckets: the bin of
 * a value is table[bits(float32(value)) >> shift] (int16), where the table maps every range of
 * neighbouring float32s to its bin, or to `nbins` ("ambiguous") when the range straddles a bucket
 * edge; the caller places ambiguous values by binary search. Also min, max, sum (compensated,
 * so that cancelling values keep their exact sum) and sum of squares, in float64. Returns None at the first NaN or +-Inf (the caller then takes its general
 * path). */

static PyObject *py_histogram(PyObject *self, PyObject *args) {
    Py_buffer xv, tv;
    Py_ssize_t nbins;
    int is_f64, shift;
    if (!PyArg_ParseTuple(args, "y*py*ni", &xv, &is_f64, &tv, &nbins, &shift)) return NULL;
    PyObject *res = NULL;
    int64_t *counts = NULL, *amb = NULL;
    Py_ssize_t namb = 0, camb = 0;
    size_t itemsize = is_f64 ? 8 : 4;
    Py_ssize_t n = xv.len / (Py_ssize_t)itemsize;
    if (shift < 0 || shift > 31 || nbins < 1 || nbins > 32767 ||
        tv.len != ((Py_ssize_t)1 << (32 - shift)) * 2 || xv.len % (Py_ssize_t)itemsize) {
        PyErr_SetString(PyExc_ValueError, "histogram: bad table, shift, nbins or buffer size");
        goto done;
    }
    counts = calloc((size_t)nbins + 1, sizeof(int64_t));
    if (!counts) { PyErr_NoMemory(); goto done; }
    const int16_t *tab = (const int16_t *)tv.buf;
    const float *x32 = (const float *)xv.buf;
    const double *x64 = (const double *)xv.buf;
    double mn = INFINITY, mx = -INFINITY, s = 0.0, c = 0.0, q = 0.0;
    int bad = 0, nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        double d;
        float f;
        if (is_f64) {
            d = x64[i];
            f = fabs(d) > 3.4028234663852886e38 ? (float)copysign(INFINITY, d) : (float)d;
        } else {
            f = x32[i];
            d = (double)f;
        }
        if (!isfinite(d)) { bad = 1; break; }
        if (d < mn) mn = d;
        if (d > mx) mx = d;
        double t = s + d; /* Neumaier's compensated sum: values may cancel */
        c += fabs(s) >= fabs(d) ? (s - t) + d : (d - t) + s;
        s = t;
        q += d * d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        int16_t b = tab[bits >> shift];
        if (b < 0 || b > nbins) b = (int16_t)nbins;
        counts[b]++;
        if (b == nbins) {
            if (namb == camb) {
                Py_ssize_t nc = camb ? camb * 2 : 1024;
                int64_t *na = realloc(amb, (size_t)nc * sizeof(int64_t));
                if (!na) { nomem = 1; break; }
                amb = na;
                camb = nc;
            }
            amb[namb++] = i;
        }
    }
    Py_END_ALLOW_THREADS
    if (nomem) { PyErr_NoMemory(); goto done; }
    if (bad) { res = Py_None; Py_INCREF(res); goto done; }
    res = Py_BuildValue("(y#y#dddd)", (const char *)counts,
                        (Py_ssize_t)((nbins + 1) * sizeof(int64_t)), amb ? (const char *)amb : "",
                        (Py_ssize_t)(namb * sizeof(int64_t)), mn, mx, s + c, q);
done:
    free(counts);
    free(amb);
    PyBuffer_Release(&xv);
    PyBuffer_Release(&tv);
    return res;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"crc32c", (PyCFunction)(void (*)(void))py_crc32c, METH_VARARGS | METH_KEYWORDS,
     "crc32c(data, value=0, hw=True) -> int\n\nCRC32C (Castagnoli) of data, continuing from "
     "value; hw=False forces the table-driven code."},
    {"frame_records", py_frame_records, METH_O,
     "frame_records(payloads) -> bytes\n\nEach bytes-like payload framed as a TFRecord, "
     "concatenated."},
    {"scan_records", py_scan_records, METH_VARARGS,
     "scan_records(buf, start=0, strict=True) -> (starts, lengths, end, corruptions)\n\n"
     "starts, lengths: buffers of native int64 (data offset and length of each good record);\n"
     "end: resume offset; corruptions: list of (offset, skipped, reason). strict stops at the "
     "first corruption."},
    {"scan_events", py_scan_events, METH_VARARGS,
     "scan_events(buf, start, tags, tag_index, want=None, limit=-1) -> (end, corruptions, nrec, "
     "rows, others)\n\n"
     "Lenient scan that also decodes Events. rows: dict tag id -> 6 buffers, columns over the "
     "Summary Values of that tag: record ordinal (i4), step (i8), wall_time (f8), value (f8), "
     "kind (u1: 0 simple_value, 1 one-number tensor, 2 other), and extra: int64 5-tuples (row, "
     "value offset, value length, metadata offset, metadata length) of the rows whose kind is "
     "not 0 or that carry metadata. Tag ids index `tags` "
     "(list of bytes); new tags are appended to it and to `tag_index` (dict bytes -> id). "
     "others: int64 triples (record ordinal, data offset, length) of records left to "
     "protobuf. want: None, or a callable(tag bytes) -> bool called once per tag id and call; "
     "rows of tags it rejects are not returned. limit >= 0: stop before the first record whose "
     "data is longer (end is its offset; its length CRC was checked)."},
    {"histogram", py_histogram, METH_VARARGS,
     "histogram(values, is_f64, table, nbins, shift) -> None | (counts, ambiguous, min, max, "
     "sum, sum_squares)\n\nvalues: C-contiguous native float32 (is_f64 False) or float64 "
     "buffer; table: int16 buffer of 2**(32 - shift) bins. counts: native int64 buffer of "
     "nbins + 1 (the last counts ambiguous values); ambiguous: native int64 indices of the "
     "values to place by binary search. None when a value is NaN or +-Inf."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tbx._speedups",
                                    "C kernels of tbx's record framing and scalar decoding.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc_init();
    if (PyType_Ready(&BlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    /* ABI: bumped whenever an output layout changes; tbx.record ignores a stale build. */
    if (PyModule_AddIntConstant(m, "ABI", 2) < 0 ||
        PyModule_AddIntConstant(m, "HAVE_HW_CRC", have_hw) < 0 ||
        /* scan_events takes want and limit */
        PyModule_AddIntConstant(m, "SELECT", 1) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
