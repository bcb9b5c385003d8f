"""torchvision's FakeData: random images that are the same for the same index on every access."""
from ember.creation import randint, randn
from ember.random import get_rng_state, manual_seed, set_rng_state
from ember.vision.datasets.vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """`size` random (C, H, W) = `image_size` images as PIL images, with random targets in [0, num_classes).

    Item i is drawn from the generator seeded with i + random_offset (the global generator's state is restored
    afterwards), so an item never changes and the program's own random stream is left alone.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        from ember.vision import transforms
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng_state = get_rng_state()
        manual_seed(index + self.random_offset)
        img = randn(*self.image_size)
        target = randint(0, self.num_classes, size=(1,))[0]
        set_rng_state(rng_state)
        img = transforms.ToPILImage()(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item() if hasattr(target, "item") else target

    def __len__(self):
        return self.size
