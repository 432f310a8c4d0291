"""Shares of py-spy raw stacks (``py-spy record -f raw``): the samples whose stack contains each
PATTERN, then the top frames inclusive and as leaf.  python spy_shares.py STACKS.txt PATTERN..."""
import sys, collections, re
path=sys.argv[1]; pats=sys.argv[2:]
incl=collections.Counter(); leaf=collections.Counter(); total=0
pc=collections.Counter()
for line in open(path):
    line=line.rstrip()
    if not line: continue
    stack,_,n=line.rpartition(' ')
    n=int(n); total+=n
    frames=stack.split(';')
    seen=set()
    for f in frames:
        key=re.sub(r':\d+\)',')',f)
        if key not in seen: incl[key]+=n; seen.add(key)
    leaf[re.sub(r':\d+\)',')',frames[-1])]+=n
    for p in pats:
        if p in stack: pc[p]+=n
print('total',total)
for p in pats: print(f'{100*pc[p]/total:5.1f}% {p}')
print('--- inclusive top')
for k,v in incl.most_common(int(__import__('os').environ.get('TOP','45'))): print(f'{100*v/total:5.1f}% {k[:150]}')
print('--- leaf top')
for k,v in leaf.most_common(20): print(f'{100*v/total:5.1f}% {k[:150]}')
