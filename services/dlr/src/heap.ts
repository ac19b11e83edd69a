// How fast V8 lets the old generation grow between full garbage collections when the heap is capped.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** A heap limit below this was set by `--max-old-space-size` (V8's own is 2-4 GB on a 64-bit machine). */
export const CAPPED_HEAP_BELOW = 1024 * 1024 * 1024;

/**
 * After each full GC V8 lets the old generation grow to `live × factor` (at least live + 16 MB, at most
 * halfway to the limit) before the next one. The factor's ceiling depends on the heap limit: up to 4 with
 * V8's own limit, but 1.3 for any limit up to 256 MB and barely more up to 1 GB. Under the deployments' cap
 * (`--max-old-space-size=192`) dlr, whose batches live across PostgreSQL round trips and are promoted
 * before they die, ran a full GC every ~17 MB allocated (live heap ~45 MB): 20-36 % more CPU than without
 * the cap (README, "Performance: session 9"). `--heap-growing-percent` sets the factor (1 + percent/100);
 * V8 reads it at every limit computation, so setting it at start-up takes effect (`heap.spec.ts`). The cap
 * still bounds the heap: a limit never passes halfway between the live size and the cap.
 *
 * Only with a capped heap (below CAPPED_HEAP_BELOW): without a cap V8's own factor is higher. 0 leaves
 * V8's choice. Returns whether the factor was set.
 */
export function tuneHeapGrowth(percent: number, heapLimit = getHeapStatistics().heap_size_limit): boolean {
  if (!Number.isInteger(percent) || percent <= 0 || heapLimit >= CAPPED_HEAP_BELOW) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
