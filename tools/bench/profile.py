#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Where a benchmark run's CPU time went, by kind of work.

  perf report --stdio --no-children --sort dso,sym -q | profile.py NAME

Reads perf report's lines ("PCT% DSO [k] SYMBOL"), puts each symbol in
one bucket by its name (the first pattern that matches, in the order of
BUCKETS), leaves the idle loop out, and prints one line per bucket: its
share of the busy samples. The patterns are rough by nature; the top
symbols follow, so that a reader can check them.
"""
import re
import sys

BUCKETS = [
    ("idle", r"idle|native_safe_halt|mwait|cpu_startup_entry|pv_native_safe"),
    # (aesni's GCM assembly has local labels: _encrypt_by_8_new..., _T_...)
    ("crypto", r"gcm|aes|ghash|gf128|clmul|crypto_|chacha|poly1305|sha\d|"
               r"scatterwalk|skcipher|aead_|rfc4106|rfc7539|cipher|"
               r"_encrypt_by|_decrypt_by|_initial_blocks|_zero_cipher|^_T_|"
               r"_partial_block|_get_AAD|_esb_"),
    ("checksum", r"csum|checksum"),
    ("copy, zeroing", r"memcpy|memmove|memset|copy_|movs|skb_copy|_copy_"),
    ("allocation", r"kmalloc|kfree|kmem_cache|alloc_skb|page_frag|slab|"
                   r"skb_release|free_pages|alloc_pages|__free|consume_skb|"
                   r"kfree_skb|skb_clone|pskb_expand|skb_cow|build_skb|"
                   r"clear_page|rmqueue|free_unref|__page_"),
    ("lock contention", r"spin_lock_slowpath|queued_spin|osq_lock|"
                        r"mutex_spin|rwsem_"),
    # samples are taken by a timer interrupt: time spent with interrupts
    # off is charged to where they come back on
    ("irqs-off sections", r"_raw_spin_unlock_irq|local_bh_enable|"
                          r"__local_bh_enable_ip|irq_exit"),
    ("scheduler", r"finish_task_switch|schedule|update_blocked|pick_next|"
                  r"enqueue_task|dequeue_task|try_to_wake_up|__switch_to|"
                  r"update_curr|load_balance"),
    ("SPD lookup", r"nfsec_policy|policy_lookup|policy_match|xfrm_policy|"
                   r"xfrm_lookup|flow_from|xfrm_selector|__xfrm_policy"),
    ("SA lookup", r"nfsec_sa_lookup|sa_lookup|xfrm_state_lookup|"
                  r"__xfrm_state_lookup|xfrm_state_find"),
    ("netfilter", r"^nf_|nft_|ipt_|conntrack|nf_hook|^ct_|nf_ct|nf_nat"),
    ("nfsec, other", r"^nfsec|\[nfsec\]"),
    ("XFRM/ESP, other", r"xfrm|esp\d?_|esp_"),
    ("TCP", r"tcp|inet_csk"),
    ("IP, routing, devices", r"^ip_|ipv6|ip6|^dst_|fib|dev_|netif|napi|veth|"
                             r"neigh|net_rx|process_backlog|__ip|raw_|"
                             r"skb_|gro|gso|sk_|sock"),
]


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "?"
    line_re = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[[k.]\]\s+(\S+)")
    shares = {b: 0.0 for b, _ in BUCKETS}
    shares["userspace"] = 0.0
    shares["other"] = 0.0
    top = []
    for line in sys.stdin:
        m = line_re.match(line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
        key = sym + " " + dso
        bucket = "other"
        if not dso.startswith("["):
            bucket = "userspace"
        for b, pat in BUCKETS if bucket == "other" else []:
            if re.search(pat, sym) or (b == "nfsec, other" and
                                       dso == "[nfsec]"):
                bucket = b
                break
        shares[bucket] += pct
        top.append((pct, sym, dso, bucket))
    busy = sum(v for b, v in shares.items() if b != "idle")
    if busy <= 0:
        print("# %s: no samples" % name)
        return
    print("# %s: busy %.1f%% of the samples (idle %.1f%%: %s)" %
          (name, busy, shares["idle"], ", ".join(
              ["%s %.1f%%" % (t[1], t[0]) for t in sorted(top, reverse=True)
               if t[3] == "idle"][:3])))
    top = [t for t in top if t[3] != "idle"]
    for b, _ in BUCKETS[1:] + [("userspace", ""), ("other", "")]:
        print("%-12s %-22s %5.1f%%" % (name, b, 100 * shares[b] / busy))
    for pct, sym, dso, bucket in sorted(top, reverse=True)[:15]:
        print("#   %5.1f%%  %-40s %-12s %s" %
              (100 * pct / busy, sym, dso, bucket))


if __name__ == "__main__":
    main()
