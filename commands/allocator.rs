//! The memory allocator, and the one place its settings differ between commands.

use crate::restart::Setting;

/// jemalloc returns freed batch memory to the system instead of keeping it in per-thread
/// arenas: consume's peak RSS on 200k postings drops below the 500 MB target with it
/// (BENCHMARKS.md). It is Debian's build (`libjemalloc-dev`, linked statically through
/// `JEMALLOC_OVERRIDE` in .cargo/config.toml) rather than one compiled from source with every
/// cold build, and unprefixed: it is the process' `malloc` too, for the C libraries linked in.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Options for commands that run an encoder over many texts, in the variable jemalloc reads
/// them from at start-up (the command restarts with them, [`crate::restart`]). Why: every
/// forward pass (and, when fine-tuning, every backward pass) allocates large activation tensors,
/// and jemalloc zeroes a reused large block by handing its pages back to the kernel, so every
/// batch faulted its activations in again (fine-tuning: 7.3 million page faults and as much
/// system time as user time in one epoch over 600 sentences). With `thp:always` jemalloc zeroes
/// with memset and maps huge pages: 31.5 s became 18.6 s for that epoch, and `rats train match`
/// on the 700 rjdb pairs took 214 s instead of 254 s (debug build, BENCHMARKS.md). Not for every
/// command: consume's peak RSS rises by a fifth with it.
pub const ENCODER_OPTIONS: Setting = ("MALLOC_CONF", "thp:always");

/// Options for `rats consume`, read the same way. Why: consume frees each batch on other
/// threads than the ones that built it (decoding and normalising on the pool, the tables' files
/// written on threads of their own), and with jemalloc's default of eight arenas on this
/// machine each arena kept its own freed pages, unused by the others: one arena pools them.
/// 200,000 postings from Kafka peaked at 614 and 635 MB with eight arenas, 476–507 MB with
/// one, in the same time (BENCHMARKS.md).
pub const CONSUME_OPTIONS: Setting = ("MALLOC_CONF", "narenas:1");
