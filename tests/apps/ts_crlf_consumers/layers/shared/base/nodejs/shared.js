exports.shared = () => 'base';
