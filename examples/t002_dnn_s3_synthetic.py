"""Tutorial 002 (DNN and CNN course notes), DNN chapter 三: a DNN on a synthetic three-class data set.

10,000 samples of three independent U(0, 1) inputs; the outputs are the one-hot class of
X1 + X2 + X3 (< 1, between 1 and 2, > 2); shuffled with randperm and split 7:3
(torch.Size([7000, 6]), torch.Size([3000, 6])). The DNN is Linear 3-5-5-5-3 with ReLU
(print(model) shows it; named_parameters gives net.0.weight [5, 3], net.0.bias [5], ...,
net.6.weight [3, 5], net.6.bias [3]), trained with nn.MSELoss and SGD (lr 0.01) for 1000
full-batch epochs. The test accuracy (argmax rows set to 1, the rest to 0, a row is correct when
all three outputs match) is 67.16666412353516 % in the text, and the same for the model saved
whole with torch.save(model, 'model.pth') and loaded back with torch.load.

Adapted: the text moves the data and model to 'cuda:0'; here they stay on the CPU ('cpu'). The
loss curve is not plotted (no matplotlib): the first and last losses are printed instead. The
file is written in a temporary directory. torch.load of a whole module needs weights_only=False
(PyTorch >= 2.6, and ember).
"""
import os
import tempfile
import ember as torch
import ember.nn as nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# ---- 3.1 制作数据集 ----
# 生成数据集
X1 = torch.rand(10000,1) # 输入特征 1
X2 = torch.rand(10000,1) # 输入特征 2
X3 = torch.rand(10000,1) # 输入特征 3
Y1 = ((X1+X2+X3) < 1).float() # 输出特征 1
Y2 = ((1 < (X1+X2+X3)) & ((X1+X2+X3) < 2)).float() # 输出特征 2
Y3 = ((X1+X2+X3) > 2).float() # 输出特征 3
Data = torch.cat([X1,X2,X3,Y1,Y2,Y3],axis=1) # 整合数据集
Data = Data.to('cpu') # 把数据集搬到 GPU 上 (adapted: 'cuda:0' -> 'cpu')
print(Data.shape)

# 划分训练集与测试集
train_size = int(len(Data) * 0.7) # 训练集的样本数量
test_size = len(Data) - train_size # 测试集的样本数量
Data = Data[torch.randperm( Data.size(0) ),:] # 打乱样本的顺序
train_Data = Data[: train_size ,:] # 训练集样本
test_Data = Data[ train_size : ,:] # 测试集样本
print((train_Data.shape, test_Data.shape))

# ---- 3.2 搭建神经网络 ----
class DNN(nn.Module):

    def __init__(self):
        ''' 搭建神经网络各层 '''
        super(DNN,self).__init__()
        self.net = nn.Sequential(          # 按顺序搭建各层
            nn.Linear(3, 5), nn.ReLU(),    # 第 1 层：全连接层
            nn.Linear(5, 5), nn.ReLU(),    # 第 2 层：全连接层
            nn.Linear(5, 5), nn.ReLU(),    # 第 3 层：全连接层
            nn.Linear(5, 3)                # 第 4 层：全连接层
        )

    def forward(self, x):
        ''' 前向传播 '''
        y = self.net(x)    # x 即输入数据
        return y           # y 即输出数据

model = DNN().to('cpu')    # 创建子类的实例，并搬到 GPU 上 (adapted: 'cuda:0' -> 'cpu')
print(model)               # 查看该实例的各层

# ---- 3.3 网络的内部参数 ----
# 查看内部参数（非必要）
for name, param in model.named_parameters():
    print(f"参数:{name}\n 形状:{param.shape}\n 数值:{param}\n")

# ---- 3.4 网络的外部参数 ----
# 损失函数的选择
loss_fn = nn.MSELoss()
# 优化算法的选择
learning_rate = 0.01 # 设置学习率
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

# ---- 3.5 训练网络 ----
epochs = 1000
losses = [] # 记录损失函数变化的列表

# 给训练集划分输入与输出
X = train_Data[:, :3] # 前 3 列为输入特征
Y = train_Data[:, -3:] # 后 3 列为输出特征

for epoch in range(epochs):
    Pred = model(X) # 一次前向传播（批量）
    loss = loss_fn(Pred, Y) # 计算损失函数
    losses.append(loss.item()) # 记录损失函数的变化
    optimizer.zero_grad() # 清理上一轮滞留的梯度
    loss.backward() # 一次反向传播
    optimizer.step() # 优化内部参数

# (adapted: the text plots losses against the epochs)
print(f'loss: epoch 1 {losses[0]:.4f}, epoch {epochs} {losses[-1]:.4f}')

# ---- 3.6 测试网络 ----
# 给测试集划分输入与输出
X = test_Data[:, :3]      # 前 3 列为输入特征
Y = test_Data[:, -3:]     # 后 3 列为输出特征

with torch.no_grad():     # 该局部关闭梯度计算功能
    Pred = model(X)        # 一次前向传播 (批量)
    Pred[:,torch.argmax(Pred,axis=1)] = 1
    Pred[Pred!=1] = 0
    correct = torch.sum( (Pred == Y).all(1) )    # 预测正确的样本
    total = Y.size(0)                            # 全部的样本数量
    print(f'测试集精准度: {100*correct/total} %')

# ---- 3.7 保存与导入网络 ----
tmp = tempfile.TemporaryDirectory()  # (adapted: the text writes to the working directory)
model_path = os.path.join(tmp.name, 'model.pth')

# 保存网络
torch.save(model, model_path)

# 把模型赋给新网络
# (adapted: weights_only=False, which PyTorch >= 2.6 and ember need to load a whole module)
new_model = torch.load(model_path, weights_only=False)

# 测试网络
# 给测试集划分输入与输出
X = test_Data[:, :3]      # 前 3 列为输入特征
Y = test_Data[:, -3:]     # 后 3 列为输出特征

with torch.no_grad():     # 该局部关闭梯度计算功能
    Pred = new_model(X)   # 用新模型进行一次前向传播
    Pred[:, torch.argmax(Pred, axis=1)] = 1
    Pred[Pred!=1] = 0
    correct = torch.sum( (Pred == Y).all(1) ) # 预测正确的样本
    total = Y.size(0)      # 全部的样本数量
    print(f'测试集精准度: {100*correct/total} %')

tmp.cleanup()
