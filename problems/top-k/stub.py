def kth_largest(nums: list, k: int):
    """The k-th largest value of nums (duplicates count), 1 <= k <= len(nums).

    O(n log k) with a heap, or O(n) expected with quickselect. No sorting of the input.
    """
    raise NotImplementedError


def top_k(nums: list, k: int) -> list:
    """The k largest values of nums (with multiplicity), as a list in any order."""
    raise NotImplementedError
