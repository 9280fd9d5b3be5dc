def longest_increasing_subsequence(nums: list[int]) -> list[int]:
    """One longest strictly increasing subsequence of nums (its values), in O(n log n).

    longest_increasing_subsequence([10, 9, 2, 5, 3, 7, 101, 18]) -> [2, 3, 7, 18]
    """
    raise NotImplementedError
