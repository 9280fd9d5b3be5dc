from bisect import bisect_left


def longest_increasing_subsequence(nums: list[int]) -> list[int]:
    tails: list[int] = []          # tails[j]: smallest last value of an increasing run of length j + 1
    tail_idx: list[int] = []       # index in nums of tails[j]
    parent = [-1] * len(nums)      # predecessor index of nums[i] in its best run
    for i, x in enumerate(nums):
        j = bisect_left(tails, x)
        if j == len(tails):
            tails.append(x)
            tail_idx.append(i)
        else:
            tails[j], tail_idx[j] = x, i
        parent[i] = tail_idx[j - 1] if j > 0 else -1
    out, i = [], tail_idx[-1] if tail_idx else -1
    while i != -1:
        out.append(nums[i])
        i = parent[i]
    return out[::-1]
