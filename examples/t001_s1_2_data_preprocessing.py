"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 一.2: data preprocessing.

The text reads the heart-disease data set heart.csv (303 rows, 14 columns) with pandas, takes
all columns but the last two (thal, target) as features and the last column as labels, and
converts both to tensors through NumPy: it prints <class 'torch.Tensor'> torch.Size([303, 12])
and <class 'torch.Tensor'> torch.Size([303]).

Adapted (pandas is not a dependency and the text's CSV file is not available): the CSV file is
written here with the five rows the text shows, and read with numpy.loadtxt in place of
pd.read_csv / DataFrame.iloc / DataFrame.to_numpy. The tensor conversion
(torch.tensor(<float ndarray>)) is the text's. The shapes are therefore [5, 12] and [5].
"""
import os.path
import tempfile

import numpy as np
import ember as torch

HEART_HEAD = """age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,target
63,1,1,145,233,1,2,150,0,2.3,3,0,fixed,0
67,1,4,160,286,0,2,108,1,1.5,2,3,normal,1
67,1,4,120,229,0,2,129,1,2.6,2,2,reversible,0
37,1,3,130,250,0,0,187,0,3.5,3,0,normal,0
41,0,2,130,204,0,2,172,0,1.4,1,0,normal,0
"""

with tempfile.TemporaryDirectory() as tmp:
    # ---- 2.1 读取数据集 ----
    data_file = os.path.join(tmp, 'heart.csv')
    with open(data_file, 'w') as f:
        f.write(HEART_HEAD)
    with open(data_file) as f:
        columns = f.readline().strip().split(',')
    print(columns)

    # ---- 2.3 转换为张量 ----
    # x, y = data.iloc[:, :-2], data.iloc[:, -1]
    x = np.loadtxt(data_file, delimiter=',', skiprows=1, usecols=range(len(columns) - 2))
    y = np.loadtxt(data_file, delimiter=',', skiprows=1, usecols=len(columns) - 1, dtype=np.int64)
    print(columns[:-2])
    print(x)
    print(y)

# 需要先转换为 ndarray 再转换为 tensor
X = torch.tensor(x.astype(float))
Y = torch.tensor(y.astype(float))
print(type(X), X.shape)
print(type(Y), Y.shape)
print(X)
print(Y)
