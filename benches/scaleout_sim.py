#!/usr/bin/env python3
"""The numbers of docs/scale-out.md: what N frontdesk nodes behind a load balancer would cost
per chat message, from the single-node costs benches/run.sh measured.

Model (docs/scale-out.md, "What a message costs on N nodes"): a message arrives on the node
holding the sender's socket (ingest: parse, budget, one INSERT over the network to PostgreSQL,
ack), is published once to NATS JetStream (subject `conv.<id>`), and every *other* node with a
subscriber of that conversation (the visitor's other tabs, the agent, supervisors following)
receives it once and fans it out to its local sockets. Sockets are spread by the balancer
without stickiness by conversation (a visitor's and an agent's sockets land on independent
nodes), which is the worst case; `--sticky` puts every socket of a conversation's department
on the same node (consistent hashing by department), the best case.

Usage: scaleout_sim.py --ingest-us 90 --fanout-us 15 --remote-us 25 [--rate 5000] [--agents 500]
  --ingest-us  server CPU µs per message on one node today (run.sh: CPU% × 10,000 / rate)
  --fanout-us  CPU µs to deliver a serialized frame to one local socket
  --remote-us  CPU µs for a node to receive one NATS message and hand it to its hub
Prints, per node count, the average nodes a message touches, NATS deliveries per second, and
the busiest node's CPU share at the given rate (1.0 = one core).
"""
import argparse, random

p = argparse.ArgumentParser()
p.add_argument("--ingest-us", type=float, required=True)
p.add_argument("--fanout-us", type=float, default=15.0)
p.add_argument("--remote-us", type=float, default=25.0)
p.add_argument("--rate", type=float, default=5000.0)
p.add_argument("--agents", type=int, default=500)
p.add_argument("--departments", type=int, default=20)
p.add_argument("--supervisor-share", type=float, default=0.1, help="chance a chat is also followed by a supervisor")
p.add_argument("--sticky", action="store_true")
p.add_argument("--chats", type=int, default=20000)
p.add_argument("--seed", type=int, default=7)
a = p.parse_args()
rnd = random.Random(a.seed)

print(f"rate {a.rate:.0f} msg/s, {a.agents} agents, {a.chats} sampled chats, "
      f"{'sticky by department' if a.sticky else 'sockets spread at random'}")
print("| nodes | nodes a message touches | NATS deliveries/s | busiest node CPU (cores) | headroom vs one node |")
print("|---|---|---|---|---|")
one_node = None
for n in (1, 2, 3, 4, 6, 8):
    load = [0.0] * n
    touched_total = 0
    for _ in range(a.chats):
        dept = rnd.randrange(a.departments)
        node_of = (lambda: dept % n) if a.sticky else (lambda: rnd.randrange(n))
        sender = node_of()
        subscribers = [node_of(), node_of()]  # the other side of the chat, and the sender's other tab/console
        if rnd.random() < a.supervisor_share:
            subscribers.append(node_of())
        remote = {s for s in subscribers if s != sender}
        touched_total += 1 + len(remote)
        # per message on this chat
        load[sender] += a.ingest_us + a.fanout_us * sum(1 for s in subscribers if s == sender)
        for r in remote:
            load[r] += a.remote_us + a.fanout_us * sum(1 for s in subscribers if s == r)
    per_msg_busiest = max(load) / a.chats  # µs of the busiest node per message of the whole desk
    cores = per_msg_busiest * a.rate / 1e6
    touched = touched_total / a.chats
    deliveries = a.rate * (touched - 1)
    if one_node is None:
        one_node = cores
    print(f"| {n} | {touched:.2f} | {deliveries:,.0f} | {cores:.2f} | {one_node / cores:.1f}× |")
