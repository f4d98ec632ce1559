/*
 * Native baseline of the split-pingpong workload (bench/WORKLOAD.md), written from that
 * description, and of the same workload on a packed ring (the packed variant described in the
 * package README, "Benchmark"). Built by bench/run.ts with the machine's gcc -O2.
 * Usage: pingpong A|B N [split|packed]  ->  one JSON line {variant, ring, n, seconds, sum, hash, errors}.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define Q 256u
#define MEM_SIZE (4u * 1024u * 1024u)
#define DESC_OFF 0x0000u
#define AVAIL_OFF 0x1000u
#define USED_OFF 0x2000u
#define HDR_OFF 0x3000u
#define DATA_OFF 0x4000u
#define F_NEXT 1u
#define F_WRITE 2u
#define F_INDIRECT 4u
#define BATCH 32u
#define WARMUP 1000000ull

struct desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct used_elem { uint32_t id; uint32_t len; };

static uint8_t *mem;
#define DESCS ((struct desc *)(mem + DESC_OFF))
#define AVAIL_IDX ((_Atomic uint16_t *)(mem + AVAIL_OFF + 2))
#define AVAIL_RING ((uint16_t *)(mem + AVAIL_OFF + 4))
#define USED_IDX ((_Atomic uint16_t *)(mem + USED_OFF + 2))
#define USED_RING ((struct used_elem *)(mem + USED_OFF + 4))

struct driver {
  alignas(64) uint16_t free_next[Q];
  uint16_t tail[Q];
  uint8_t inflight[Q];
  uint64_t sector[Q];
  uint32_t free_head, nfree;
  uint16_t avail_idx, last_used;
  uint64_t submitted, completed, sum, errors;
  uint32_t hash;
};

struct device {
  alignas(64) uint16_t last_avail, used_idx;
  uint64_t served, errors;
};

static struct driver drv;
static struct device dev;
static _Atomic int barrier_count;

static void reset(void) {
  memset(mem, 0, MEM_SIZE);
  memset(&drv, 0, sizeof drv);
  memset(&dev, 0, sizeof dev);
  for (uint32_t i = 0; i < Q; i++) drv.free_next[i] = (uint16_t)((i + 1) % Q);
  drv.free_head = 0;
  drv.nfree = Q;
  drv.hash = 0x811c9dc5u;
}

static int submit(uint64_t n_total) {
  uint64_t left = n_total - drv.submitted;
  uint32_t b = left < BATCH ? (uint32_t)left : BATCH;
  if (b == 0 || drv.nfree < 2 * b) return 0;
  for (uint32_t i = 0; i < b; i++) {
    uint64_t n = drv.submitted++;
    uint16_t h = (uint16_t)drv.free_head;
    uint16_t t = drv.free_next[h];
    drv.free_head = drv.free_next[t];
    drv.nfree -= 2;
    uint8_t *hdr = mem + HDR_OFF + 16u * h;
    uint32_t type = 0, reserved = 0;
    memcpy(hdr, &type, 4);
    memcpy(hdr + 4, &reserved, 4);
    memcpy(hdr + 8, &n, 8);
    DESCS[h] = (struct desc){ HDR_OFF + 16u * h, 16, F_NEXT, t };
    DESCS[t] = (struct desc){ DATA_OFF + 512u * t, 512, F_WRITE, 0 };
    drv.sector[h] = n;
    drv.tail[h] = t;
    drv.inflight[h] = 1;
    AVAIL_RING[drv.avail_idx % Q] = h;
    drv.avail_idx++;
  }
  atomic_store_explicit(AVAIL_IDX, drv.avail_idx, memory_order_release);
  return (int)b;
}

static uint32_t fnv(uint32_t h, uint32_t w) { return (h ^ w) * 16777619u; }

static int reclaim(void) {
  uint16_t used_idx = atomic_load_explicit(USED_IDX, memory_order_acquire);
  int n = 0;
  while (drv.last_used != used_idx) {
    struct used_elem e = USED_RING[drv.last_used % Q];
    drv.last_used++;
    n++;
    if (e.id >= Q || !drv.inflight[e.id]) { drv.errors++; continue; }
    uint16_t head = (uint16_t)e.id;
    drv.inflight[head] = 0;
    uint64_t value = 0;
    if (e.len >= 8) {
      memcpy(&value, mem + DATA_OFF + 512u * drv.tail[head], 8);
      if (value != drv.sector[head]) drv.errors++;
    }
    drv.sum += e.len + value;
    drv.hash = fnv(fnv(fnv(drv.hash, e.len), (uint32_t)value), (uint32_t)(value >> 32));
    drv.free_next[drv.tail[head]] = (uint16_t)drv.free_head;
    drv.free_head = head;
    drv.nfree += 2;
    drv.completed++;
  }
  return n;
}

static int in_memory(uint64_t addr, uint64_t len) { return addr <= MEM_SIZE && len <= MEM_SIZE - addr; }

static int device_pass(void) {
  uint16_t avail_idx = atomic_load_explicit(AVAIL_IDX, memory_order_acquire);
  if ((uint16_t)(avail_idx - dev.last_avail) > Q) { dev.errors++; return 0; }
  int served = 0;
  uint32_t unpublished = 0;
  while (dev.last_avail != avail_idx) {
    uint16_t head = AVAIL_RING[dev.last_avail % Q];
    dev.last_avail++;
    int ok = head < Q;
    uint64_t hdr = 0, data = 0;
    uint32_t hdr_len = 0, data_len = 0, count = 0;
    int have_hdr = 0, have_data = 0;
    uint16_t idx = head;
    while (ok) {
      if (++count > Q) { ok = 0; break; }
      struct desc d = DESCS[idx];
      if (d.flags & F_INDIRECT) { ok = 0; break; }
      if (!in_memory(d.addr, d.len)) { ok = 0; break; }
      if (d.flags & F_WRITE) {
        if (!have_data) { have_data = 1; data = d.addr; data_len = d.len; }
      } else {
        if (have_data) { ok = 0; break; }
        if (!have_hdr) { have_hdr = 1; hdr = d.addr; hdr_len = d.len; }
      }
      if (!(d.flags & F_NEXT)) break;
      idx = d.next;
      if (idx >= Q) { ok = 0; break; }
    }
    uint32_t len = 0;
    if (ok && have_hdr && have_data && hdr_len >= 16 && data_len >= 8) {
      uint32_t type;
      uint64_t sector;
      memcpy(&type, mem + hdr, 4);
      memcpy(&sector, mem + hdr + 8, 8);
      if (type == 0) {
        memcpy(mem + data, &sector, 8);
        len = 8;
      }
    }
    if (len == 0) dev.errors++;
    USED_RING[dev.used_idx % Q] = (struct used_elem){ head, len };
    dev.used_idx++;
    served++;
    if (++unpublished == 32) {
      atomic_store_explicit(USED_IDX, dev.used_idx, memory_order_release);
      unpublished = 0;
    }
  }
  if (unpublished) atomic_store_explicit(USED_IDX, dev.used_idx, memory_order_release);
  dev.served += (uint64_t)served;
  return served;
}

/* ---- the packed ring ---------------------------------------------------------------------
 * One descriptor ring of Q slots at DESC_OFF ({u64 addr, u32 len, u16 id, u16 flags}); the
 * driver and device event suppression areas (DRIVER / DEVICE area) are never read or written.
 * A request takes a buffer id from the driver's LIFO stack (initially 0, 1, ..., Q-1 from the
 * top) and the next two ring slots; its buffers are the id's header and data buffers. */

#define P_AVAIL (1u << 7)
#define P_USED (1u << 15)

struct pdesc { uint64_t addr; uint32_t len; uint16_t id; uint16_t flags; };
#define PRING ((struct pdesc *)(mem + DESC_OFF))

struct pdriver {
  alignas(64) uint16_t free_ids[Q];
  uint8_t inflight[Q]; /* descriptors of the chain with this id; 0 = free */
  uint64_t sector[Q];
  uint32_t nfree_ids, nfree_slots;
  uint32_t avail_slot, avail_wrap, used_slot, used_wrap;
  uint64_t submitted, completed, sum, errors;
  uint32_t hash;
};

struct pdevice {
  alignas(64) uint32_t avail_slot, avail_wrap, used_slot, used_wrap;
  uint64_t served, errors;
  int failed; /* a queue-level error: the device stops */
};

static struct pdriver pdrv;
static struct pdevice pdev;

static void preset(void) {
  memset(mem, 0, MEM_SIZE);
  memset(&pdrv, 0, sizeof pdrv);
  memset(&pdev, 0, sizeof pdev);
  for (uint32_t i = 0; i < Q; i++) pdrv.free_ids[i] = (uint16_t)(Q - 1 - i);
  pdrv.nfree_ids = Q;
  pdrv.nfree_slots = Q;
  pdrv.avail_wrap = pdrv.used_wrap = 1;
  pdev.avail_wrap = pdev.used_wrap = 1;
  pdrv.hash = 0x811c9dc5u;
}

static inline uint16_t load_flags(struct pdesc *d) {
  return atomic_load_explicit((_Atomic uint16_t *)&d->flags, memory_order_acquire);
}

static inline int is_avail(uint32_t flags, uint32_t wrap) {
  return !!(flags & P_AVAIL) == wrap && !!(flags & P_USED) != wrap;
}

static inline int is_used(uint32_t flags, uint32_t wrap) {
  return !!(flags & P_AVAIL) == wrap && !!(flags & P_USED) == wrap;
}

/* Submits one batch; the first head's flags are stored last, with release. */
static int psubmit(uint64_t n_total) {
  uint64_t left = n_total - pdrv.submitted;
  uint32_t b = left < BATCH ? (uint32_t)left : BATCH;
  if (b == 0 || pdrv.nfree_slots < 2 * b || pdrv.nfree_ids < b) return 0;
  uint16_t *first_flags = NULL;
  uint16_t first_value = 0;
  for (uint32_t i = 0; i < b; i++) {
    uint64_t n = pdrv.submitted++;
    uint16_t id = pdrv.free_ids[--pdrv.nfree_ids];
    uint8_t *hdr = mem + HDR_OFF + 16u * id;
    uint32_t type = 0, reserved = 0;
    memcpy(hdr, &type, 4);
    memcpy(hdr + 4, &reserved, 4);
    memcpy(hdr + 8, &n, 8);
    for (uint32_t k = 0; k < 2; k++) {
      struct pdesc *d = &PRING[pdrv.avail_slot];
      uint16_t flags = (uint16_t)((k == 0 ? F_NEXT : F_WRITE) | (pdrv.avail_wrap ? P_AVAIL : P_USED));
      d->addr = k == 0 ? HDR_OFF + 16u * id : DATA_OFF + 512u * id;
      d->len = k == 0 ? 16 : 512;
      d->id = id;
      if (i == 0 && k == 0) {
        first_flags = &d->flags;
        first_value = flags;
      } else {
        d->flags = flags;
      }
      if (++pdrv.avail_slot == Q) { pdrv.avail_slot = 0; pdrv.avail_wrap ^= 1; }
    }
    pdrv.sector[id] = n;
    pdrv.inflight[id] = 2;
  }
  pdrv.nfree_slots -= 2 * b;
  atomic_store_explicit((_Atomic uint16_t *)first_flags, first_value, memory_order_release);
  return (int)b;
}

/* Reclaims every used descriptor (one acquire load of its flags each). */
static int preclaim(void) {
  int n = 0;
  for (;;) {
    struct pdesc *d = &PRING[pdrv.used_slot];
    if (!is_used(load_flags(d), pdrv.used_wrap)) break;
    uint16_t id = d->id;
    uint32_t len = d->len;
    if (id >= Q || !pdrv.inflight[id]) { pdrv.errors++; return -1; } /* the ring is broken */
    uint32_t slots = pdrv.inflight[id];
    pdrv.inflight[id] = 0;
    uint64_t value = 0;
    if (len >= 8) {
      memcpy(&value, mem + DATA_OFF + 512u * id, 8);
      if (value != pdrv.sector[id]) pdrv.errors++;
    }
    pdrv.sum += len + value;
    pdrv.hash = fnv(fnv(fnv(pdrv.hash, len), (uint32_t)value), (uint32_t)(value >> 32));
    pdrv.free_ids[pdrv.nfree_ids++] = id;
    pdrv.nfree_slots += slots;
    pdrv.used_slot += slots;
    if (pdrv.used_slot >= Q) { pdrv.used_slot -= Q; pdrv.used_wrap ^= 1; }
    pdrv.completed++;
    n++;
  }
  return n;
}

/* One device pass: every available chain, up to Q. Each chain is walked and validated in full,
 * served, and its used descriptor written in its place (the used position never passes the
 * available one); the first used descriptor of every 32 gets its flags last, with release. */
static int pdevice_pass(void) {
  if (pdev.failed) return 0;
  int served = 0;
  uint16_t *first_flags = NULL;
  uint16_t first_value = 0;
  uint32_t unpublished = 0;
  while (served < (int)Q) {
    uint32_t s = pdev.avail_slot, w = pdev.avail_wrap;
    uint16_t head_flags = load_flags(&PRING[s]);
    if (!is_avail(head_flags, w)) break;
    int ok = 1, fatal = 0;
    uint64_t hdr = 0, data = 0;
    uint32_t hdr_len = 0, data_len = 0, slots = 0;
    int have_hdr = 0, have_data = 0;
    uint16_t id = 0, flags = head_flags;
    for (;;) {
      if (++slots > Q) { fatal = 1; break; }
      struct pdesc *d = &PRING[s];
      if (slots > 1) {
        flags = d->flags;
        if (!is_avail(flags, w)) { fatal = 1; break; }
      }
      id = d->id;
      if (ok) {
        uint64_t addr = d->addr;
        uint32_t dlen = d->len;
        if ((flags & F_INDIRECT) || !in_memory(addr, dlen)) ok = 0;
        else if (flags & F_WRITE) {
          if (!have_data) { have_data = 1; data = addr; data_len = dlen; }
        } else if (have_data) {
          ok = 0;
        } else if (!have_hdr) {
          have_hdr = 1; hdr = addr; hdr_len = dlen;
        }
      }
      if (++s == Q) { s = 0; w ^= 1; }
      if (!(flags & F_NEXT)) break;
    }
    if (fatal) { pdev.errors++; pdev.failed = 1; break; }
    pdev.avail_slot = s;
    pdev.avail_wrap = w;
    if (id >= Q) ok = 0;
    uint32_t len = 0;
    if (ok && have_hdr && have_data && hdr_len >= 16 && data_len >= 8) {
      uint32_t type;
      uint64_t sector;
      memcpy(&type, mem + hdr, 4);
      memcpy(&sector, mem + hdr + 8, 8);
      if (type == 0) {
        memcpy(mem + data, &sector, 8);
        len = 8;
      }
    }
    if (len == 0) pdev.errors++;
    struct pdesc *u = &PRING[pdev.used_slot];
    uint16_t used_flags = (uint16_t)(pdev.used_wrap ? P_AVAIL | P_USED : 0);
    u->id = id;
    u->len = len;
    if (unpublished == 0) {
      first_flags = &u->flags;
      first_value = used_flags;
    } else {
      u->flags = used_flags;
    }
    pdev.used_slot += slots;
    if (pdev.used_slot >= Q) { pdev.used_slot -= Q; pdev.used_wrap ^= 1; }
    served++;
    if (++unpublished == 32) {
      atomic_store_explicit((_Atomic uint16_t *)first_flags, first_value, memory_order_release);
      unpublished = 0;
    }
  }
  if (unpublished) atomic_store_explicit((_Atomic uint16_t *)first_flags, first_value, memory_order_release);
  pdev.served += (uint64_t)served;
  return served;
}

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* Variant A's CPU seconds (the process's, as the JavaScript measurements report theirs): on a
 * shared machine the wall clock also counts the time other processes held the core. */
static double a_cpu_seconds = -1;

static double run_a(uint64_t n) {
  reset();
  double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  double start = now();
  while (drv.completed < n) {
    submit(n);
    device_pass();
    reclaim();
  }
  double seconds = now() - start;
  a_cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  return seconds;
}

static uint64_t b_total;
static double b_seconds;

static void wait_barrier(void) {
  atomic_fetch_add(&barrier_count, 1);
  while (atomic_load(&barrier_count) < 2) _mm_pause();
}

static void *driver_thread(void *arg) {
  (void)arg;
  wait_barrier();
  double start = now();
  while (drv.completed < b_total) {
    int progress = reclaim();
    if (drv.submitted < b_total) progress += submit(b_total);
    if (!progress) _mm_pause();
  }
  b_seconds = now() - start;
  return NULL;
}

static void *device_thread(void *arg) {
  (void)arg;
  wait_barrier();
  while (dev.served < b_total) {
    if (!device_pass()) _mm_pause();
  }
  return NULL;
}

static double run_b(uint64_t n) {
  reset();
  b_total = n;
  atomic_store(&barrier_count, 0);
  pthread_t a, b;
  pthread_create(&a, NULL, driver_thread, NULL);
  pthread_create(&b, NULL, device_thread, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return b_seconds;
}

/* The same two variants on the packed ring (the loops are written out again, not passed as
 * function pointers, so that the compiler inlines each side as in the split loops). */
static double run_packed_a(uint64_t n) {
  preset();
  double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  double start = now();
  while (pdrv.completed < n && !pdev.failed) {
    psubmit(n);
    pdevice_pass();
    if (preclaim() < 0) break;
  }
  double seconds = now() - start;
  a_cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  return seconds;
}

static void *packed_driver_thread(void *arg) {
  (void)arg;
  wait_barrier();
  double start = now();
  while (pdrv.completed < b_total) {
    int progress = preclaim();
    if (progress < 0) break;
    if (pdrv.submitted < b_total) progress += psubmit(b_total);
    if (!progress) _mm_pause();
  }
  b_seconds = now() - start;
  return NULL;
}

static void *packed_device_thread(void *arg) {
  (void)arg;
  wait_barrier();
  while (pdev.served < b_total && !pdev.failed) {
    if (!pdevice_pass()) _mm_pause();
  }
  return NULL;
}

static double run_packed_b(uint64_t n) {
  preset();
  b_total = n;
  atomic_store(&barrier_count, 0);
  pthread_t a, b;
  pthread_create(&a, NULL, packed_driver_thread, NULL);
  pthread_create(&b, NULL, packed_device_thread, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return b_seconds;
}

int main(int argc, char **argv) {
  const char *ring = argc > 3 ? argv[3] : "split";
  int packed = strcmp(ring, "packed") == 0;
  if (argc < 3 || (argv[1][0] != 'A' && argv[1][0] != 'B') || (!packed && strcmp(ring, "split") != 0)) {
    fprintf(stderr, "usage: %s A|B N [split|packed]\n", argv[0]);
    return 2;
  }
  char variant = argv[1][0];
  uint64_t n = strtoull(argv[2], NULL, 10);
  mem = aligned_alloc(4096, MEM_SIZE);
  if (!mem) return 1;
  double (*run)(uint64_t) = packed ? (variant == 'A' ? run_packed_a : run_packed_b) : (variant == 'A' ? run_a : run_b);
  run(WARMUP);
  double seconds = run(n);
  uint64_t sum = packed ? pdrv.sum : drv.sum;
  uint32_t hash = packed ? pdrv.hash : drv.hash;
  uint64_t errors = packed ? pdrv.errors + pdev.errors : drv.errors + dev.errors;
  printf("{\"variant\":\"%c\",\"ring\":\"%s\",\"n\":%llu,\"seconds\":%.9f,\"sum\":%llu,\"hash\":%u,\"errors\":%llu",
         variant, ring, (unsigned long long)n, seconds, (unsigned long long)sum, hash, (unsigned long long)errors);
  if (a_cpu_seconds >= 0) printf(",\"cpuSeconds\":%.9f", a_cpu_seconds);
  printf("}\n");
  free(mem);
  return 0;
}
