import heapq


def top_k(nums, k):
    heap = nums[:k]                    # min-heap of the k largest values seen so far
    heapq.heapify(heap)                # O(k)
    for x in nums[k:]:                 # n - k steps, O(log k) each
        if x > heap[0]:                # beats the smallest of the current top k
            heapq.heapreplace(heap, x)
    return heap                        # k values, heap[0] is the smallest of them


def kth_largest(nums, k):
    return top_k(nums, k)[0]           # the smallest of the k largest = the k-th largest
