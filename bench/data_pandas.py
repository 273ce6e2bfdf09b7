"""pandas reference for bench/data: the same preparation steps as adarec's data layer, written
the way a pandas user would. Prints one JSON line with timings and peak RSS.

Steps: read CSV or Parquet (user,item,rating,timestamp) -> implicit (rating >= min_rating) -> iterative
k-core on users and items -> stable chronological sort per user (ties by file order) -> item ids
remapped to 1..n -> leave-one-out split -> 100 uniform negatives per user outside the user's items.
Run with /usr/bin/python3 (Debian: apt-get install python3-pandas).
"""
import json, resource, sys, time
import numpy as np, pandas as pd

path, min_rating, k, n_neg, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t0 = time.perf_counter()
if path.endswith('.parquet'):
    # pandas reads Parquet through pyarrow or fastparquet; Debian 12 packages neither (exit 3: unavailable)
    try:
        df = pd.read_parquet(path, columns=['user', 'item', 'rating', 'timestamp'])
    except ImportError as e:
        print(f'pandas.read_parquet needs pyarrow or fastparquet: {e}'.splitlines()[0], file=sys.stderr)
        sys.exit(3)
    df['rating'] = df['rating'].astype(np.float32)
    df['timestamp'] = df['timestamp'].astype(np.float64)
else:
    df = pd.read_csv(path, dtype={'user': str, 'item': str, 'rating': np.float32, 'timestamp': np.float64})
t_read = time.perf_counter()
df = df[df['rating'] >= min_rating]
while True:
    n = len(df)
    df = df[df.groupby('user')['user'].transform('size') >= k]
    df = df[df.groupby('item')['item'].transform('size') >= k]
    if len(df) == n:
        break
df = df.reset_index(drop=True)
df['row'] = np.arange(len(df))
df = df.sort_values(['user', 'timestamp', 'row'], kind='stable')
codes, uniques = pd.factorize(df['item'])
df['iid'] = codes + 1
t_pre = time.perf_counter()
pos = df.groupby('user').cumcount(ascending=False)  # 0 = last
test = df[pos == 0][['user', 'iid']]
valid = df[pos == 1][['user', 'iid']]
train = df[pos >= 2][['user', 'iid']]
t_split = time.perf_counter()
rng = np.random.default_rng(seed)
n_items = len(uniques)
negatives = {}
for user, items in df.groupby('user')['iid']:
    seen = set(items.values)
    out = []
    while len(out) < n_neg:
        for c in rng.integers(1, n_items + 1, size=2 * n_neg):
            if c not in seen and c not in out:
                out.append(c)
                if len(out) == n_neg:
                    break
    negatives[user] = out
t_neg = time.perf_counter()
print(json.dumps({
    'rows_kept': int(len(df)), 'users': int(df['user'].nunique()), 'items': int(n_items),
    'read_s': t_read - t0, 'preprocess_s': t_pre - t_read, 'split_s': t_split - t_pre, 'negatives_s': t_neg - t_split,
    'total_s': t_neg - t0, 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
