namespace Mage.Inference;
