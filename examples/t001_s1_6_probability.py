"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 一.6: probability.

A fair die as a multinomial distribution: one draw with total_count=1 is a one-hot vector of
six counts (the text prints tensor([0., 0., 1., 0., 0., 0.]); which face is random), and the
distribution's logits are log(1/6) for every face:
tensor([-1.7918, -1.7918, -1.7918, -1.7918, -1.7918, -1.7918]).
"""
import ember as torch
from ember.distributions import multinomial

probs = torch.ones(6)
# total_count 为抽样次数,probs为样本,是一个tensor
multinomial_distribution = multinomial.Multinomial(total_count=1, probs=probs)
# 采样
print(multinomial_distribution.sample())
# 对数概率分布
print(multinomial_distribution.logits)
