/*
 * Native baseline of the split-pingpong workload (packages/vring/bench/WORKLOAD.md),
 * written from that description. Built by bench/run.ts with the machine's gcc -O2.
 * Usage: pingpong A|B N  ->  one JSON line {variant, n, seconds, sum, hash, errors}.
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double run_a(uint64_t n) {
  reset();
  double start = now();
  while (drv.completed < n) {
    submit(n);
    device_pass();
    reclaim();
  }
  return now() - start;
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

int main(int argc, char **argv) {
  if (argc < 3 || (argv[1][0] != 'A' && argv[1][0] != 'B')) {
    fprintf(stderr, "usage: %s A|B N\n", argv[0]);
    return 2;
  }
  char variant = argv[1][0];
  uint64_t n = strtoull(argv[2], NULL, 10);
  mem = aligned_alloc(4096, MEM_SIZE);
  if (!mem) return 1;
  double (*run)(uint64_t) = variant == 'A' ? run_a : run_b;
  run(WARMUP);
  double seconds = run(n);
  printf("{\"variant\":\"%c\",\"n\":%llu,\"seconds\":%.9f,\"sum\":%llu,\"hash\":%u,\"errors\":%llu}\n", variant,
         (unsigned long long)n, seconds, (unsigned long long)drv.sum, drv.hash,
         (unsigned long long)(drv.errors + dev.errors));
  free(mem);
  return 0;
}
